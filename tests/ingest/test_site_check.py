"""Checking a site catalogue: each broken catalogue is refused with the line to change, every
problem of a file is listed (not only the first), and the example of docs/site.md is a valid
catalogue (so the documentation cannot drift from what the checker accepts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.enrollment import PROVINCES
from ingest.site import SiteError, load_site, read_site
from ingest.site_provinces import PROVINCES as BUILT_IN

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.search(r"```toml\n(.*?)```", (ROOT / "docs" / "site.md").read_text(encoding="utf-8"),
                    re.S).group(1)  # type: ignore[union-attr]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path: Path, old: str, new: str) -> Path:
    assert EXAMPLE.count(old) == 1, old
    return write(tmp_path, EXAMPLE.replace(old, new))


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line]
    return hits[nth - 1]


def test_the_documented_example_is_a_valid_catalogue(tmp_path: Path) -> None:
    site, problems = read_site(write(tmp_path, EXAMPLE))
    assert problems == [] and site is not None
    assert site.counts() == {"campus": 2, "gate": 3, "link": 2, "terminal": 1, "department": 2,
                             "service": 3, "college": 2, "major": 3, "province": 34}
    assert {m.code: m.college for m in site.majors} == {"080901": "cs", "080902": "cs", "070101": "math"}
    assert next(m for m in site.majors if m.code == "080901").aliases == ("计科",)
    assert next(lk for lk in site.links if lk.code == "cernet").capacity_bps == 10_000_000_000
    assert len(site.digest) == 64


def test_provinces_left_out_are_the_built_in_standard_list() -> None:
    assert tuple(BUILT_IN) == PROVINCES  # the admissions contract's codes, in the same order


WHOLE = "must be a whole number from 1 to 32"
MATHS = '{ code = "070101", name_zh = "数学与应用数学", name_en = "Mathematics and Applied Mathematics" }'
BROKEN = [
    # (old, new, the line's text [, which occurrence], message)
    ("lanes = 6", "lanes = 0", ("lanes = 0",), f"gate 'main-north': 'lanes' {WHOLE}, got 0"),
    ("lanes = 4", "lanes = 2.5", ("lanes = 2.5",), "'lanes' must be a whole number"),
    ("lanes = 4\n", "", ('id = "main-south"',), f"gate 'main-south': 'lanes' {WHOLE}, got None"),
    ("capacity_bps = 1_000_000_000", "capacity_bps = 0", ("capacity_bps = 0",),
     "link 'telecom': 'capacity_bps' must be"),
    ('campus = "east"', 'campus = "west"', ('campus = "west"',),
     "gate 'east-main': campus 'west' is not in [[campuses]]"),
    ('campus = "main"\nname_zh = "图书馆一楼"', 'campus = "north"\nname_zh = "图书馆一楼"',
     ('campus = "north"',), "terminal 'main-lib': campus 'north' is not in [[campuses]]"),
    ('department = "security" }', 'department = "police" }', ('"visitor-registration" =',),
     "service 'visitor-registration': department 'police' is not in [departments]"),
    ('name_en = "South Gate"\n', "", ('id = "main-south"',),
     "gate 'main-south': 'name_en' must be a non-empty string"),
    ('security = { name_zh = "保卫处"', 'security = { name_zh = " "', ("security = {",),
     "department 'security': 'name_zh' must be a non-empty string"),
    ('id = "east-main"', 'id = "main-north"', ('id = "main-north"', 2), "code 'main-north' appears twice"),
    ('{ code = "070101"', '{ code = "080902"', ("math = {",), "code '080902' appears twice"),
    ('id = "main-south"', 'id = "main south"', ('id = "main south"',), "the code must be 1–64 of"),
    ('aliases = ["东区大门"]', 'aliases = ["北门"]', ('aliases = ["北门"]',),
     "gate 'east-main': alias '北门' is already the name_zh of gate 'main-north'"),
    ('aliases = ["东区"]', 'aliases = ["main"]', ('aliases = ["main"]',),
     "campus 'east': alias 'main' is already the code of campus 'main'"),
    ("lanes = 4", "lane = 4", ("lane = 4",), "gate 'main-south': unknown key 'lane'"),
    ('timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"', ("timezone",), "not an IANA zone"),
    ('[[links]]\nid = "cernet"', '[[link]]\nid = "cernet"', ("[[link]]",), "unknown section [link]"),
    ('department = "academic", printable = true }\n"transcript"',
     'department = "academic", printable = "是" }\n"transcript"', ('"enrollment-certificate" =',),
     "'printable' must be true or false"),
    (f"majors = [{MATHS}]", "majors = []", ("math = {",),
     "college 'math': 'majors' must list at least one major"),
    ("[colleges]\n", '[provinces]\n"11" = { name_zh = "北京", name_en = "Beijing" }\n\n[colleges]\n',
     ("[provinces]",), "[provinces] must hold exactly the 34 GB/T 2260 codes"),
    ("lanes = 6", "lanes = ", ("lanes = ",), "not valid TOML"),
]


@pytest.mark.parametrize(("old", "new", "where", "message"), BROKEN, ids=[b[3][:40] for b in BROKEN])
def test_each_broken_catalogue_is_refused_with_its_line(tmp_path: Path, old: str, new: str,
                                                        where: tuple, message: str) -> None:
    path = broken(tmp_path, old, new)
    site, problems = read_site(path)
    assert site is None
    line = line_of(path, *where)
    assert any(p.line == line and message in p.message and not p.warning for p in problems), \
        [str(p) for p in problems]
    # the server's start-up refuses it too, naming the first problem's line
    with pytest.raises(SiteError, match=re.escape(f"{path}: line {problems[0].line}: ")):
        load_site(path)


def test_every_problem_of_a_file_is_listed_in_line_order(tmp_path: Path) -> None:
    text = (EXAMPLE.replace("lanes = 6", "lanes = 0").replace('campus = "east"', 'campus = "west"')
            .replace('department = "academic", printable = true }',
                     'department = "registry", printable = true }', 1)
            .replace('name_en = "China Telecom"\n', ""))
    path = write(tmp_path, text)
    site, problems = read_site(path)
    assert site is None
    assert [p.line for p in problems] == [line_of(path, "lanes = 0"), line_of(path, 'campus = "west"'),
                                          line_of(path, 'id = "telecom"'),
                                          line_of(path, '"enrollment-certificate" =')]
    with pytest.raises(SiteError, match=r"\(and 3 more: 'python -m ioc_app site check .*' lists them all\)"):
        load_site(path)


def test_a_reference_to_a_badly_named_entry_is_not_a_second_error(tmp_path: Path) -> None:
    """A campus without its English name is one problem, not one more for each of its gates."""
    path = broken(tmp_path, 'name_en = "East campus"\n', "")
    _, problems = read_site(path)
    assert [(p.line, "campus 'east'" in p.message) for p in problems] == [
        (line_of(path, 'code = "east"'), True)]


def test_colleges_written_as_tables_are_located_too(tmp_path: Path) -> None:
    text = EXAMPLE.split("[colleges]")[0] + (
        '[colleges.cs]\nname_zh = "计算机学院"\nname_en = "School of Computer Science"\nmajors = [\n'
        '  { code = "080901", name_zh = "计算机科学与技术", name_en = "Computer Science" },\n'
        '  { code = "080902", name_zh = "软件工程" },\n]\n\n'
        '[colleges."math"]\nname_zh = "数学学院"\nname_en = ""\n'
        'majors = [{ code = "070101", name_zh = "数学", name_en = "Mathematics" }]\n')
    path = write(tmp_path, text)
    _, problems = read_site(path)
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (line_of(path, '"080902"'), "major '080902' of college 'cs'"),
        (line_of(path, 'name_en = ""'), "college 'math'")]


def test_two_entries_sharing_a_name_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = broken(tmp_path, 'name_zh = "东校区正门"', 'name_zh = "北门"')
    site, problems = read_site(path)
    assert site is not None
    assert [(p.line, p.warning) for p in problems] == [(line_of(path, 'id = "east-main"'), True)]
    assert "also the name_zh of gate 'main-north'" in problems[0].message
    load_site(path)  # starts


def test_an_unreadable_file_is_one_problem_naming_it(tmp_path: Path) -> None:
    site, problems = read_site(tmp_path / "missing.toml")
    assert site is None and len(problems) == 1
    assert str(problems[0]).startswith(f"{tmp_path / 'missing.toml'}: line 1: cannot read the site catalogue")
    latin = tmp_path / "latin.toml"
    latin.write_bytes("名".encode("gb18030"))
    assert "save it as UTF-8" in read_site(latin)[1][0].message
