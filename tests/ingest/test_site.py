"""The site catalogue: the shipped demo site follows the seed figures; a broken catalogue
fails with the line and what to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.site import SiteError, load_site, store_reference
from ioc_app.settings import DEFAULT_SITE
from ioc_app.storage import Store

DEMO = Path(DEFAULT_SITE).read_text(encoding="utf-8")


def test_demo_site_follows_the_seed_figures() -> None:
    site = load_site(DEFAULT_SITE)
    assert len(site.campuses) == 3
    assert len(site.gates) == 11 and sum(g.lanes for g in site.gates) == 55
    busiest = max(site.gates, key=lambda g: g.weight)
    assert "大道" in busiest.name_zh  # the gate on the main road carries the most load
    assert len(site.links) == 4 and {lk.code for lk in site.links} >= {"cernet"}
    assert len(site.services) == 123 and sum(s.printable for s in site.services) == 16
    assert max(site.services, key=lambda s: s.weight).code == "visitor-registration"
    assert 28 <= len(site.colleges) <= 32 and len(site.majors) >= len(site.colleges)
    assert len(site.provinces) == 34
    assert all(t.campus in {c.code for c in site.campuses} for t in site.terminals)


def broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in DEMO
    path = tmp_path / "site.toml"
    path.write_text(DEMO.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ('lanes = 10', 'lanes = 40', 'lanes = 40', "'lanes' must be a whole number from 1 to 32"),
        ('campus = "east"', 'campus = "west"', 'campus = "west"', "campus 'west' is not in [[campuses]]"),
        ('department = "security", printable = false, weight = 60',
         'department = "police", printable = false, weight = 60',
         '"visitor-registration" =', "department 'police' is not in [departments]"),
        ('capacity_bps = 10_000_000_000', 'capacity_bps = -1', 'capacity_bps = -1', "'capacity_bps'"),
        ('timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"', "timezone", "not an IANA zone"),
        ('"82" = {', '"83" = {', "[provinces]", "missing ['82'], unknown ['83']"),
    ],
)
def test_broken_catalogue_names_line_and_fix(tmp_path: Path, old, new, needle, message) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(SiteError) as err:
        load_site(path)
    text = str(err.value)
    assert text.startswith(f"{path}: line {line_of(path, needle)}: "), text
    assert message in text


def test_toml_syntax_errors_carry_the_line(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('[site]\nname_zh = "x"\nname_en = \n', encoding="utf-8")
    with pytest.raises(SiteError, match=r"line 3"):
        load_site(path)


def test_reference_rows_are_stored_and_replaced(migrated: Store) -> None:
    site = load_site(DEFAULT_SITE)
    n = store_reference(migrated, site)
    assert n == migrated.rows("SELECT count() FROM ioc_reference FINAL")[0][0]
    store_reference(migrated, site)  # idempotent
    assert n == migrated.rows("SELECT count() FROM ioc_reference FINAL")[0][0]
    name = migrated.rows("SELECT name_zh FROM ioc_reference FINAL WHERE kind = 'service' "
                         "AND code = 'visitor-registration'")
    assert name == [("入校备案申请",)]


def test_aliases_are_read_and_entries_listed_by_kind(tmp_path: Path) -> None:
    path = broken(tmp_path, 'id = "main-north"\n', 'id = "main-north"\naliases = ["北大门", " 学府门 "]\n')
    site = load_site(path)
    north = next(g for g in site.entries("gate") if g.code == "main-north")
    assert north.aliases == ("北大门", "学府门")
    assert all(g.aliases == () for g in site.gates if g.code != "main-north")
    assert site.entries("major") == site.majors and site.entries("service") == site.services
    with pytest.raises(ValueError, match="unknown catalogue kind 'lane'"):
        site.entries("lane")


def test_aliases_must_be_a_list_of_names(tmp_path: Path) -> None:
    path = broken(tmp_path, 'id = "main-north"\n', 'id = "main-north"\naliases = "北大门"\n')
    line = line_of(path, 'aliases = "北大门"')
    with pytest.raises(SiteError, match=rf"line {line}: .*'aliases' must"):
        load_site(path)
