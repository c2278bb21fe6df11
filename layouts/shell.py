"""The frame around every page: title bar, navigation, language switch and status line."""

from __future__ import annotations

from typing import Any

from dash import html

from layouts.i18n import t

NAV = (("nav.overview", "/"),)


def page_shell(title_key: str, lang: str, body: Any, status: Any = None) -> html.Div:
    other = "en" if lang == "zh" else "zh"
    return html.Div(
        className="ioc-page",
        lang="zh-CN" if lang == "zh" else "en",
        children=[
            html.Header(
                className="ioc-header",
                children=[
                    html.Div(t("app.title", lang), className="ioc-brand"),
                    html.H1(t(title_key, lang), className="ioc-title"),
                    html.Nav(
                        [html.A(t(key, lang), href=f"{path}?lang={lang}", className="ioc-nav-link")
                         for key, path in NAV]
                        + [html.A(t("nav.language", lang), href=f"?lang={other}",
                                  className="ioc-nav-link ioc-lang", id="lang-switch")],
                        className="ioc-nav",
                    ),
                ],
            ),
            html.Main(body, className="ioc-main"),
            html.Footer(status, className="ioc-status"),
        ],
    )
