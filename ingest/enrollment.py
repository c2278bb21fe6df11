"""The enrollment domain (招生) on the ingest side: admissions, the enrollment plan, the
provinces' control lines, admission notices and September check-in.

The contracts, their raw tables, and how file import reads the admissions office's
spreadsheets. Admissions come in seasons, so the domain has no rollups. Its catalogue
references and staleness are declared in ``metrics/enrollment.py``, its labels in
``layouts/i18n/enrollment.py``, its demo traffic in ``ingest/sim/enrollment.py``.
"""

from __future__ import annotations

from ingest.contracts import SOURCE, Field, Stream, event_stream
from ingest.tables import IngestDomain, Table

#: GB/T 2260 codes of the 34 provincial-level divisions.
PROVINCES = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
)
BATCHES = ("early", "regular", "second", "special", "junior_college")
CATEGORIES = (
    "general", "art", "sport", "national_special", "university_special", "local_special",
    "sino_foreign", "preparatory", "minority",
)
TRACKS = ("physics", "history", "science", "liberal_arts", "comprehensive")
CHECKIN_STEPS = ("arrived", "paid", "dorm", "registered")
#: where an admission notice is; ties at one ts are ordered like this (a later stage wins)
NOTICE_STATUSES = ("printed", "mailed", "delivered", "returned")

YEAR = Field("year", "int", min=2000, max=2100, doc="admission year")
PROVINCE = Field("province", "enum", values=PROVINCES, doc="GB/T 2260 two-digit code")
BATCH = Field("batch", "enum", values=BATCHES)
CATEGORY = Field("category", "enum", values=CATEGORIES)
TRACK = Field("track", "enum", values=TRACKS)
COLLEGE = Field("college", "code", max_len=64, reference="college")
MAJOR = Field("major", "code", max_len=64, reference="major")

ENROLLMENT_ADMISSION = event_stream(
    name="enrollment.admission",
    domain="enrollment",
    title_zh="招生录取",
    title_en="Admissions",
    retention_days=3_660,
    expected_interval_s=86_400,
    counting=False,
    fields=(
        YEAR,
        Field("candidate_key", "key", max_len=64),
        PROVINCE,
        BATCH,
        CATEGORY,
        TRACK,
        COLLEGE,
        MAJOR,
        Field("status", "enum", values=("filed", "admitted", "returned", "withdrawn")),
        Field("score", "float", min=0, max=1000),
        Field("province_rank", "int", required=False, min=1),
        Field("first_choice", "bool", required=False,
              doc="the admitted major was the candidate's first choice (一志愿)"),
    ),
)

ENROLLMENT_PLAN = Stream(
    name="enrollment.plan",
    domain="enrollment",
    title_zh="招生计划",
    title_en="Enrollment plan",
    kind="plan",
    event_id="none",
    retention_days=3_660,
    counting=False,
    key=("year", "province", "batch", "category", "track", "major"),
    fields=(
        YEAR,
        PROVINCE,
        BATCH,
        CATEGORY,
        TRACK,
        MAJOR,
        Field("planned", "int", min=0),
        SOURCE,
    ),
)

ENROLLMENT_CHECKIN = event_stream(
    name="enrollment.checkin",
    domain="enrollment",
    title_zh="迎新报到",
    title_en="Check-in",
    retention_days=3_660,
    expected_interval_s=86_400,
    counting=False,
    fields=(
        YEAR,
        Field("student_key", "key", max_len=64),
        COLLEGE,
        MAJOR,
        Field("campus", "code", max_len=64, reference="campus"),
        Field("step", "enum", values=CHECKIN_STEPS,
              doc="a student counts once, at the furthest step reached"),
    ),
)

ENROLLMENT_CONTROL_LINE = Stream(
    name="enrollment.control_line",
    domain="enrollment",
    title_zh="省控线",
    title_en="Control lines",
    kind="plan",
    event_id="none",
    retention_days=3_660,
    counting=False,
    key=("year", "province", "batch", "category", "track"),
    fields=(
        YEAR,
        PROVINCE,
        BATCH,
        CATEGORY,
        TRACK,
        Field("control_score", "float", min=0, max=1000,
              doc="the province's control-line score (省控线) of the batch, category and track"),
        SOURCE,
    ),
)

ENROLLMENT_NOTICE = event_stream(
    name="enrollment.notice",
    domain="enrollment",
    title_zh="录取通知书",
    title_en="Admission notices",
    retention_days=3_660,
    expected_interval_s=86_400,
    counting=False,
    fields=(
        YEAR,
        Field("candidate_key", "key", max_len=64, doc="the same pseudonym as the admission's"),
        Field("status", "enum", values=NOTICE_STATUSES,
              doc="a candidate's notice is where their latest notice event says"),
        Field("tracking_no", "str", required=False, max_len=64, personal=True,
              doc="the courier's tracking number: personal data, shown to the admissions role only"),
        Field("carrier", "str", required=False, max_len=32, doc="the courier (EMS, SF …)"),
    ),
)

STREAMS = (ENROLLMENT_ADMISSION, ENROLLMENT_PLAN, ENROLLMENT_CONTROL_LINE, ENROLLMENT_NOTICE,
           ENROLLMENT_CHECKIN)

TABLES = (
    Table("enrollment.admission", ("year", "province", "candidate_key", "ts")),
    Table("enrollment.plan"),
    Table("enrollment.control_line"),
    Table("enrollment.notice", ("year", "candidate_key", "ts")),
    Table("enrollment.checkin", ("year", "student_key", "ts")),
)

# the admissions office's spreadsheets (file import; provinces are read by name too)
HEADER_ALIASES = {
    "年份": "year", "招生年份": "year", "年度": "year",
    "省份": "province", "省份代码": "province", "生源地": "province", "省市": "province",
    "批次": "batch", "录取批次": "batch",
    "类别": "category", "招生类别": "category", "计划类别": "category",
    "科类": "track", "选考科类": "track", "首选科目": "track",
    "专业": "major", "专业代码": "major", "招生专业": "major", "专业名称": "major",
    "学院": "college", "学院代码": "college", "院系": "college", "学院名称": "college",
    "计划数": "planned", "计划人数": "planned", "招生计划": "planned",
    "考生": "candidate_key", "考生标识": "candidate_key",
    "状态": "status", "录取状态": "status",
    "成绩": "score", "投档成绩": "score", "高考成绩": "score",
    "位次": "province_rank", "省排名": "province_rank", "省位次": "province_rank",
    "一志愿": "first_choice", "是否一志愿": "first_choice", "第一志愿": "first_choice",
    "省控线": "control_score", "控制线": "control_score", "批次线": "control_score",
    "最低控制分数线": "control_score", "省控分数线": "control_score", "控制分数线": "control_score",
    "数据来源": "source",
    "通知书状态": "status", "邮寄状态": "status",
    "快递单号": "tracking_no", "运单号": "tracking_no", "邮件号": "tracking_no",
    "快递公司": "carrier", "承运商": "carrier",
    "学生": "student_key", "学生标识": "student_key", "校区": "campus", "环节": "step",
    "报到环节": "step",
}
VALUE_ALIASES = {
    "batch": {"提前批": "early", "本科批": "regular", "本科一批": "regular", "一批": "regular",
              "本科二批": "second", "二批": "second", "特殊类型批": "special",
              "专科批": "junior_college", "高职专科批": "junior_college"},
    "category": {"普通类": "general", "艺术类": "art", "艺术": "art", "体育类": "sport",
                 "体育": "sport", "国家专项": "national_special", "高校专项": "university_special",
                 "地方专项": "local_special", "中外合作": "sino_foreign", "预科": "preparatory",
                 "民族班": "minority"},
    "track": {"物理类": "physics", "物理": "physics", "历史类": "history", "历史": "history",
              "理科": "science", "文科": "liberal_arts", "综合改革": "comprehensive",
              "综合": "comprehensive"},
    # (admissions and notices share the header 状态; each stream keeps the values it knows)
    "status": {"投档": "filed", "录取": "admitted", "退档": "returned", "放弃": "withdrawn",
               "打印": "printed", "已打印": "printed", "寄出": "mailed", "已寄出": "mailed",
               "签收": "delivered", "已签收": "delivered", "退回": "returned", "退件": "returned"},
    "first_choice": {"是": "true", "否": "false"},
    "step": {"到校": "arrived", "缴费": "paid", "入住": "dorm", "注册": "registered"},
}

DOMAIN = IngestDomain(
    "enrollment", 40, STREAMS, TABLES,
    header_aliases=HEADER_ALIASES,
    value_aliases=VALUE_ALIASES,
    person_keys={"enrollment.admission": "candidate_key", "enrollment.notice": "candidate_key",
                 "enrollment.checkin": "student_key"},
    simulator="ingest.sim.enrollment",
)
