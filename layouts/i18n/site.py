"""The site catalogue's version as /health shows it."""

from __future__ import annotations

from layouts.i18n.labels import Text

TEXTS: dict[str, Text] = {
    "health.site.label": {"zh": "站点目录", "en": "Site catalogue"},
    "health.site.version": {"zh": "{file} · 版本 {version} · {loaded} 载入",
                            "en": "{file} · v. {version} · loaded {loaded}"},
    "health.site.not_stored": {"zh": "{file} · 版本 {version} · 尚未写入存储（运行 migrate）",
                               "en": "{file} · v. {version} · not stored yet (run migrate)"},
    "health.site.count": {"zh": "{kind} {n}", "en": "{n} {kind}"},
    "health.site.total": {"zh": "共 {n} 项", "en": "{n} entries"},
    "health.site.history": {"zh": "历史保留旧名称（{n} 版）",
                            "en": "history keeps old names (versions: {n})"},
    "health.site.kind.campus": {"zh": "校区", "en": "campuses"},
    "health.site.kind.gate": {"zh": "校门", "en": "gates"},
    "health.site.kind.link": {"zh": "链路", "en": "links"},
    "health.site.kind.terminal": {"zh": "终端", "en": "terminals"},
    "health.site.kind.department": {"zh": "部门", "en": "depts"},
    "health.site.kind.service": {"zh": "服务", "en": "services"},
    "health.site.kind.college": {"zh": "学院", "en": "colleges"},
    "health.site.kind.major": {"zh": "专业", "en": "majors"},
    "health.site.kind.province": {"zh": "省份", "en": "provinces"},
}
