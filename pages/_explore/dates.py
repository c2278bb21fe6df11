"""The date-range picker of /explore, in the page's language.

Dash's picker (``dcc.DatePickerRange``) names months and weekdays with the date-fns locale it
finds in ``window.dateFns.locale``; without one it speaks English. IOC loads nothing from
another host, so no date-fns locale file is fetched: the page writes the month and weekday
names from the UI catalogue (``explore.month.*``, ``explore.weekday.*``, Chinese and English)
into a data attribute beside the picker, and ``assets/ioc_explore.js`` builds the locale from
them whenever the picker asks — a language switch needs no reload and nothing else.

The picker chooses whole days, the last one included; the question's ``to`` is exclusive,
so picking 1–3 December asks ``from=2026-12-01&to=2026-12-04`` (the midnight after the last
day), and a range ending at a midnight shows the day before as its last.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson
from dash import dcc, html

from layouts.i18n import t


def words(lang: str) -> dict[str, list[str]]:
    """Month and weekday names (Sunday first) for the picker, from the catalogue."""
    return {
        "months": [t(f"explore.month.{i}", lang) for i in range(1, 13)],
        "monthsShort": [t(f"explore.month_short.{i}", lang) for i in range(1, 13)],
        "days": [t(f"explore.weekday.{i}", lang) for i in range(7)],
        "daysLong": [t(f"explore.weekday_long.{i}", lang) for i in range(7)],
    }


def picker(id_: str, holder_id: str, dates: tuple[str | None, str | None], lang: str) -> html.Div:
    """The picker and, around it, the names its locale is built from."""
    return html.Div(
        dcc.DatePickerRange(
            id=id_, start_date=dates[0], end_date=dates[1], display_format="YYYY-MM-DD",
            updatemode="bothdates", first_day_of_week=1 if lang == "zh" else 0, minimum_nights=0,
            day_size=44,  # a finger's width on a tablet
            month_format="YYYY年MMMM" if lang == "zh" else "MMMM YYYY",  # 2026年十二月, December 2026
            start_date_placeholder_text=t("explore.dates_start", lang),
            end_date_placeholder_text=t("explore.dates_end", lang), className="ex-dates"),
        id=holder_id, className="ex-dates-box", title=t("explore.dates", lang),
        **{"data-date-words": orjson.dumps(words(lang)).decode(), "data-lang": lang},
    )


def picked_range(start: Any, end: Any) -> tuple[str, str] | None:
    """The question's ``from``/``to`` for the days picked (``to`` the midnight after the last
    day), or None while a day is missing."""
    if not start or not end:
        return None
    first, last = date.fromisoformat(str(start)[:10]), date.fromisoformat(str(end)[:10])
    if last < first:
        first, last = last, first
    return first.isoformat(), (last + timedelta(days=1)).isoformat()
