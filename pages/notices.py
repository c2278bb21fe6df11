"""Admission notice tracker (录取通知书跟踪, ``/enrollment/notices``): the admissions office's
desk page for printing and mailing the notices.

The season's notice funnel by province (admitted → printed → mailed → delivered, and returned)
and the three exception lists — notices returned, mailed but not delivered after
``IOC_NOTICE_UNDELIVERED_DAYS``, candidates admitted but without a printed notice after
``IOC_NOTICE_UNPRINTED_DAYS`` — each with its count and its file
(``GET /api/v1/export/enrollment/notices``). The lists carry courier tracking numbers,
personal data: permission ``admissions_tools`` (the admissions role), the figures computed
from the store at each opening and audited (``read.notice_tracker``); the page polls nothing.
Definitions: ``metrics/enrollment_notices.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash
from dash import html

from ioc_app import read
from layouts.i18n import CATALOGUE, t
from layouts.live import frame, options, tile
from layouts.table import table

PAGE = "enrollment_notices"
PATH = "/enrollment/notices"
EXPORT_URL = "/api/v1/export/enrollment/notices"
KINDS = ("returned", "undelivered", "unprinted")
STAGES = ("admitted", "printed", "mailed", "delivered", "returned")
#: rows of a list shown on the page (the file has them all)
SHOWN = 200


def _year(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and 2000 <= int(raw) <= 2100 else None


def _when(value: Any, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "—"


def _word(key: str, code: Any, lang: str) -> str:
    """``key`` in words, the ``code`` itself when the catalogue does not know it."""
    return t(key, lang) if key in CATALOGUE else str(code or "—")


def export_links(year: int, kind: str, lang: str) -> html.Span:
    """The list's files: XLSX and CSV of the year's ``kind`` exceptions."""
    query = f"year={year}&kind={kind}&lang={lang}"
    return html.Span([
        html.A(t("export.link", lang), href=f"{EXPORT_URL}?{query}&format=xlsx", download="",
               id=f"{PAGE}-export-{kind}", className="pes-export"),
        html.A(t("notices.export_csv", lang), href=f"{EXPORT_URL}?{query}&format=csv", download="",
               id=f"{PAGE}-export-{kind}-csv", className="pes-export"),
    ], className="pes-actions")


def province_table(rows: list[dict[str, Any]], lang: str) -> html.Div:
    """The funnel per province, with each exception count, and a totals row."""
    name = "name" if lang == "zh" else "name_en"
    head = [t("export.col_province", lang), *(t(f"notices.stage_{s}", lang) for s in STAGES),
            t("notices.kind_undelivered", lang), t("notices.kind_unprinted", lang)]
    keys = (*STAGES, "ex_undelivered", "ex_unprinted")
    body = [[r.get(name) or r["province"], *(f"{int(r[k]):,}" for k in keys)] for r in rows]
    if rows:
        body.append([t("export.total", lang), *(f"{sum(int(r[k]) for r in rows):,}" for k in keys)])
    return table(head, body, widths=[16, *([12] * 7)], numeric=tuple(range(1, 8)),
                 row_classes=[""] * len(rows) + ["pes-total"] if rows else None,
                 empty=t("status.no_data", lang))


def exception_table(rows: list[dict[str, Any]], lang: str, zone: ZoneInfo) -> html.Div:
    """One exception list: every column of the file but the codes."""
    suffix = "zh" if lang == "zh" else "en"
    head = [t(key, lang) for key in ("notices.col_candidate", "export.col_province", "export.col_batch",
                                     "export.col_major", "notices.col_admitted_at", "notices.col_status",
                                     "notices.col_status_at", "notices.col_days", "notices.col_carrier",
                                     "notices.col_tracking")]
    def row(r: dict[str, Any]) -> list[str]:
        status = r["notice_status"]
        batch = _word(f"enroll.batch_{r['batch']}", r["batch"], lang)
        return [r["candidate_key"], r[f"province_{suffix}"], batch, r[f"major_{suffix}"],
                _when(r["admitted_at"], zone),
                _word(f"notices.stage_{status}", status, lang) if status else "—",
                _when(r["notice_at"], zone),
                str(r["days_waiting"]), r["carrier"] or "—", r["tracking_no"] or "—"]

    body = [row(r) for r in rows[:SHOWN]]
    return table(head, body, widths=[14, 7, 8, 14, 11, 8, 11, 6, 7, 14], numeric=(7,),
                 empty=t("notices.none", lang), cls="pes-notice-list")


def layout(lang: str | None = None, theme: str | None = None, fit: str | None = None,
           year: str | None = None, **_query: Any) -> html.Div:
    lang, theme, fit = options(lang, theme, fit, read.display())
    zone = read.settings().zone
    data = read.notice_tracker(_year(year)) if read.may("admissions_tools") else None
    if data is None:
        body = html.Div(html.P(t("exact.unavailable", lang)), className="pes-exact")
    else:
        intro = (t("notices.intro", lang).replace("{now}", _when(data["now"], zone))
                 .replace("{undelivered}", str(data["days"]["undelivered"]))
                 .replace("{unprinted}", str(data["days"]["unprinted"])))
        lists = []
        for kind in KINDS:
            rows = data["exceptions"][kind]
            n = f"{len(rows):,}"
            title = f"{t(f'notices.kind_{kind}', lang)} · {t('notices.count', lang).replace('{n}', n)}"
            more = (html.P(t("notices.more", lang).replace("{shown}", str(SHOWN)).replace("{n}", n),
                           className="pes-note") if len(rows) > SHOWN else None)
            lists.append(tile(title, [exception_table(rows, lang, zone), more], lang=lang,
                              cls=f"pes-notice-{kind}", action=export_links(data["year"], kind, lang)))
        body = html.Div([
            html.P(intro, className="pes-note", id=f"{PAGE}-intro"),
            html.H2(t("exact.year", lang).replace("{year}", str(data["year"])), className="pes-sub-title"),
            tile(t("notices.funnel_title", lang), province_table(data["by_province"], lang), lang=lang,
                 cls="pes-notice-funnel"),
            *lists,
        ], className="pes-exact")
    return frame(PAGE, "notices.title", body, lang=lang, theme=theme, fit=fit, flow=True,
                 **read.viewer(), zone=zone.key)


dash.register_page(__name__, path=PATH, name=PAGE, title="IOC", layout=layout, wall=False)
