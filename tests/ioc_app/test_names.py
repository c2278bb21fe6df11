"""The one way a code becomes its display name: catalogue kinds, enumerations, unknown codes
marked, name columns beside code columns, dropdown choices, and alert titles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from ingest.site import load_site
from ioc_app.app import core_for
from ioc_app.names import Names, names_of
from ioc_app.settings import DEFAULT_ALERTS, DEFAULT_SITE, load_settings
from ioc_app.storage import Store
from metrics.alerts import AlertBook, load_rules

ZONE = ZoneInfo("Asia/Shanghai")
SITE = load_site(DEFAULT_SITE)


@pytest.fixture(scope="module")
def names() -> Names:
    return names_of(SITE)


def test_codes_of_each_kind_have_their_names_in_each_language(names: Names) -> None:
    assert names.label("gate", "main-north", "zh") == "北门（学府大道）"
    assert names.label("gate", "main-north", "en") == "North Gate (Xuefu Avenue)"
    assert names.label("link", "cernet", "zh") == "教育网（CERNET）"
    assert names.label("major", "080901", "zh") == "计算机科学与技术"
    assert names.label("college", "cs", "en") == "School of Computer Science"
    for kind in names.kinds():  # every kind of the catalogue is named, none left as a code
        for code, (zh, en) in names.codes(kind).items():
            assert names.label(kind, code, "zh") == zh and names.label(kind, code, "en") == (en or zh)


def test_a_code_the_catalogue_lacks_is_shown_as_the_code_marked(names: Names) -> None:
    assert names.name("gate", "east-labx", "zh") is None and not names.known("gate", "east-labx")
    assert names.label("gate", "east-labx", "zh") == "east-labx（未登记）"
    assert names.label("gate", "east-labx", "en") == "east-labx (not in catalogue)"
    # a dimension: catalogue codes by name, enumerations in words, free codes as sent
    assert names.value_label("gate_id", "main-south", "zh") == "南门"
    assert names.value_label("gate_id", "nope", "zh") == "nope（未登记）"
    assert names.value_label("direction", "in", "zh") == "入校"
    assert names.value_label("province", "11", "en") == "Beijing"
    assert names.value_label("queue", "q7", "zh") == "q7"  # a hotline queue has no catalogue
    assert names.value("stream", "gate.pass", "zh") == "门禁通行"


def test_name_columns_sit_beside_the_code_columns(names: Names) -> None:
    frame = pl.DataFrame({"day": ["2026-12-01"] * 4, "gate_id": ["main-north", "main-south", "x-9", None],
                          "direction": ["in", "out", "in", "in"], "passes": [5, 4, 3, 2]})
    out = names.with_names(frame, ["gate_id", "direction"], "zh")
    assert out.columns == ["day", "gate_id", "gate_id_name", "direction", "direction_name", "passes"]
    assert out["gate_id"].to_list() == frame["gate_id"].to_list()  # the codes are kept
    assert out["gate_id_name"].to_list() == ["北门（学府大道）", "南门", "x-9（未登记）", None]
    assert out["direction_name"].to_list() == ["入校", "出校", "入校", "入校"]
    en = names.with_names(frame, ["gate_id"], "en")
    assert en["gate_id_name"].to_list()[:2] == ["North Gate (Xuefu Avenue)", "South Gate"]
    # a free code has no name column: nothing would be added but the code again
    assert names.with_names(pl.DataFrame({"queue": ["q1"]}), ["queue"], "zh").columns == ["queue"]
    assert frame.columns == ["day", "gate_id", "direction", "passes"]  # the caller's frame untouched


def test_filter_choices_show_names_and_are_searchable_by_name_or_code(names: Names) -> None:
    options = names.options("gate", "zh", chosen=["ghost"])
    north = next(o for o in options if o["value"] == "main-north")
    assert north["label"] == "北门（学府大道）" and north["title"] == "main-north"
    assert all(w in north["search"] for w in ("北门", "North Gate", "main-north"))
    assert options[-1] == {"label": "ghost（未登记）", "value": "ghost", "title": "ghost", "search": "ghost"}


def _link_snapshot(utilization: float) -> dict[str, object]:
    return {"network": {"links": [{"link_id": "cernet", "utilization": utilization}]}}


def test_alert_titles_name_the_link_not_its_code(names: Names) -> None:
    rules = load_rules(DEFAULT_ALERTS)
    book = AlertBook(rules, ZONE, names.value)
    t0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
    for s in range(0, 240, 60):  # above the threshold for longer than the rule's for_s
        active = book.evaluate(_link_snapshot(0.95), t0 + timedelta(seconds=s))
    alert = next(a for a in active if a["id"] == "link_utilization:cernet")
    assert "教育网（CERNET）" in alert["title_zh"] and "cernet" not in alert["title_zh"]
    assert alert["title_en"].startswith("Egress link CERNET at 95%")
    # without names (the protection off) the title would carry the code
    bare = AlertBook(rules, ZONE)
    for s in range(0, 240, 60):
        plain = bare.evaluate(_link_snapshot(0.95), t0 + timedelta(seconds=s))
    assert "cernet" in next(a for a in plain if a["id"] == "link_utilization:cernet")["title_zh"]


def test_the_core_names_what_its_alerts_are_about(migrated: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The running core's alert book is given the site catalogue's names."""
    monkeypatch.setenv("IOC_SITE", DEFAULT_SITE)
    core = core_for(load_settings(), migrated, None)
    assert core.book.namer is not None
    assert core.book.namer("link_id", "telecom", "zh") == "中国电信"
    assert core.book.namer("gate_id", "main-north", "en") == "North Gate (Xuefu Avenue)"
