"""Shown for an unknown route: say so, and lead back to the overview."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from layouts.i18n import normalise_lang, t
from layouts.shell import page_shell

dash.register_page(__name__, path="/404", name="not_found", order=99)


def layout(lang: str | None = None, **_query: Any) -> html.Div:
    lang = normalise_lang(lang)
    body = html.Div([html.H2(t("page.not_found", lang)),
                     html.A(t("page.back_home", lang), href=f"/?lang={lang}")])
    return page_shell("page.not_found", lang, body)
