"""The words of a notification: one message for a group of alert changes, in the contact
point's language, with the figure, the rule, ``since`` and a link to the page that shows it.

Only what the wall shows goes out (titles, figures, rule ids): never a person's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from layouts.i18n import t

#: the page that shows a domain's alerts (the data flow's own alerts: /health)
PAGES = {"gate": "/gates", "network": "/network", "service": "/service", "enrollment": "/enrollment",
         "pipeline": "/health"}
STATUSES = ("firing", "repeat", "resolved")


@dataclass(frozen=True)
class Message:
    """A rendered notification: a subject (mail, markdown title), plain text and markdown."""

    subject: str
    text: str
    markdown: str


def page_url(public_url: str, domain: str) -> str:
    path = PAGES.get(domain, f"/{domain}")
    return (public_url.rstrip("/") + path) if public_url else path


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _when(moment: str | None, zone: ZoneInfo) -> str:
    if not moment:
        return "—"
    return datetime.fromisoformat(moment).astimezone(zone).strftime("%m-%d %H:%M")


def render(entries: list[dict[str, Any]], lang: str, zone: ZoneInfo, public_url: str) -> Message:
    """One message for ``entries`` (``{status, alert, at}``, status firing|repeat|resolved),
    grouped by status in that order, each alert with its figure, rule, since and link."""
    by_status = {s: [e for e in entries if e["status"] == s] for s in STATUSES}
    counts = [t("notify.count", lang).format(label=t(f"notify.head.{s}", lang), n=len(es))
              for s, es in by_status.items() if es]
    summary = t("notify.sep", lang).join(counts)
    first = entries[0]["alert"] if entries else {}
    title_key = "title_zh" if lang == "zh" else "title_en"
    subject = t("notify.subject", lang).format(summary=summary)
    if len(entries) == 1:
        subject += " " + str(first.get(title_key, ""))
    text, md = [subject], [f"### {subject}"]
    for status, es in by_status.items():
        if not es:
            continue
        text.append(f"\n{t(f'notify.head.{status}', lang)}")
        md.append(f"\n**{t(f'notify.head.{status}', lang)}**")
        for e in es:
            a = e["alert"]
            rule = str(a.get("id", "")).split(":", 1)[0]
            sev = t(f"severity.{a.get('severity', 'info')}", lang)
            facts = [t("notify.value", lang).format(value=_number(a.get("value")))]
            if a.get("threshold") is not None:
                facts.append(t("notify.threshold", lang).format(threshold=_number(a.get("threshold"))))
            facts.append(t("notify.rule", lang).format(rule=rule))
            facts.append(t("notify.since", lang).format(since=_when(a.get("since"), zone)))
            if status == "resolved":
                facts.append(t("notify.resolved_at", lang).format(at=_when(e.get("at"), zone)))
            url = page_url(public_url, str(a.get("domain", "")))
            text.append(f"[{sev}] {a.get(title_key, '')}\n  {' · '.join(facts)}\n  {url}")
            md.append(f"- **[{sev}]** {a.get(title_key, '')}\n  {' · '.join(facts)} · "
                      f"[{t('notify.open', lang)}]({url})")
    text.append("\n" + t("notify.footer", lang))
    md.append("\n" + t("notify.footer", lang))
    return Message(subject, "\n".join(text), "\n".join(md))
