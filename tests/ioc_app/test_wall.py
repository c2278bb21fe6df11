"""The wall playlist: the shipped file, seasons, ?pages=/?interval= rules, refused files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ioc_app.settings import DEFAULT_WALL
from ioc_app.wall import WallError, WallPlan, clamp_interval, load_wall, rotation, split_pages

KNOWN = {"/", "/gates", "/network", "/service", "/enrollment", "/health", "/wall"}


def test_shipped_playlist_adds_the_enrollment_cockpit_in_season() -> None:
    plan = load_wall(DEFAULT_WALL)
    assert plan.interval_s == 30 and plan.reload_at == "04:00"
    assert "/enrollment" not in plan.pages_on(date(2026, 3, 10))
    assert plan.pages_on(date(2026, 7, 1))[-1] == "/enrollment"
    assert plan.pages_on(date(2026, 9, 30)).count("/enrollment") == 1
    assert "/enrollment" not in plan.pages_on(date(2026, 10, 1))


def test_a_season_may_cross_the_new_year(tmp_path: Path) -> None:
    f = tmp_path / "wall.toml"
    f.write_text('pages = ["/"]\n[[season]]\nname = "winter"\npages = ["/gates", "/"]\n'
                 'from = "12-20"\nto = "01-05"\n')
    plan = load_wall(f)
    assert plan.reload_at is None
    assert plan.pages_on(date(2026, 12, 31)) == ("/", "/gates")
    assert plan.pages_on(date(2027, 1, 5)) == ("/", "/gates")
    assert plan.pages_on(date(2027, 1, 6)) == ("/",)


def test_explicit_pages_skip_bad_entries_and_keep_the_rest() -> None:
    plan = WallPlan(("/", "/gates"), 30, None)
    day = date(2026, 3, 1)
    assert rotation(plan, day, "/,/nope,/gates,/wall,javascript:x,/gates, ,/health", "20", KNOWN) == (
        ("/", "/gates", "/health"), 20)
    # nothing usable: the configured playlist
    assert rotation(plan, day, "/nope,%2F", None, KNOWN) == (("/", "/gates"), 30)
    # a playlist of unknown routes: the overview alone
    assert rotation(WallPlan(("/gone",), 30, None), day, None, None, KNOWN) == (("/",), 30)
    assert split_pages("/gates?lang=en, /") == ("/gates?lang=en", "/")


@pytest.mark.parametrize(("raw", "expected"), [
    ("30", 30), ("1", 10), ("0", 10), ("-5", 10), ("9999", 600), ("45.7", 45), ("abc", 30),
    ("", 30), (None, 30), ("nan", 30), ("inf", 600),
])
def test_interval_is_clamped(raw: str | None, expected: int) -> None:
    assert clamp_interval(raw, 30) == expected


@pytest.mark.parametrize(("text", "hint"), [
    ('pages = []\n', "non-empty list of page routes"),
    ('pages = ["gates"]\n', "is not a page route"),
    ('pages = ["/wall"]\n', "not /wall itself"),
    ('pages = ["/"]\ninterval_s = 5\n', "from 10 to 600"),
    ('pages = ["/"]\nreload_at = "4am"\n', 'such as "04:00"'),
    ('pages = ["/"]\nreload_at = "24:00"\n', 'such as "04:00"'),
    ('pages = ["/"]\nshuffle = true\n', "unknown key 'shuffle'"),
    ('pages = ["/"]\n[[season]]\nname = "x"\npages = ["/"]\nfrom = "02-30"\nto = "03-01"\n',
     'from = \'02-30\': write a day as "MM-DD"'),
    ('pages = ["/"]\n[[season]]\nname = "x"\npages = ["/"]\nfrom = "07-01"\n',
     "to = None"),
    ('pages = ["/"]\n[[season]]\npages = ["/"]\nfrom = "07-01"\nto = "08-01"\n', "'name'"),
    ('pages = ["/"\n', "not valid TOML"),
])
def test_a_broken_playlist_names_what_to_change(tmp_path: Path, text: str, hint: str) -> None:
    f = tmp_path / "wall.toml"
    f.write_text(text)
    with pytest.raises(WallError) as err:
        load_wall(f)
    assert str(err.value).startswith(str(f)) and hint in str(err.value)
