"""The whitelist as readers see it: the Markdown tables of ``docs/api.md`` and plain data
for a form (the ``/explore`` page), both derived from the registered domains."""

from __future__ import annotations

from metrics.query.spec import DEFAULT_SPAN, DOMAINS, GRAINS, MAX_SPAN, MINUTE_KEPT, _span_text


def whitelist_markdown() -> str:
    """The whitelist as the Markdown tables of ``docs/api.md`` (a test keeps them equal)."""
    lines: list[str] = [
        "| grain | reads | default range | longest range |",
        "|---|---|---|---|",
    ]
    narrow = "`*_1h` rollups (a narrow one, e.g. `gate_pass_gates_1h`, when it keeps every dimension asked)"
    reads = {"minute": f"`*_1m` rollups (kept {MINUTE_KEPT.days} days)", "hour": narrow,
             "day": f"{narrow}; latest states as of the end of each day",
             "season": "latest states, one bucket per admission year"}
    for g in GRAINS:
        default = ("this season and the 2 before" if g == "season"
                   else f"last {_span_text(DEFAULT_SPAN[g])}")
        lines.append(f"| `{g}` | {reads[g]} | {default} | {_span_text(MAX_SPAN[g], g)} |")
    for domain in DOMAINS.values():
        lines += ["", f"#### `{domain.name}`", "", f"Grains: {', '.join(f'`{g}`' for g in domain.grains)}.",
                  "", "| measure | kind | stream | meaning |", "|---|---|---|---|"]
        lines += [f"| `{m.name}` | {m.kind} | `{m.source}` | {m.doc} |" for m in domain.measures]
        if "minute" in domain.grains:
            lines += ["", "| dimension | values | per minute | per hour / day | meaning |",
                      "|---|---|---|---|---|"]
        else:
            lines += ["", "| dimension | values | splits | meaning |", "|---|---|---|---|"]
        for d in domain.dimensions:
            values = ", ".join(f"`{v}`" for v in d.values) if d.values else "codes as sent"
            minute = ", ".join(f"`{s.stream}`" for s in domain.sources if d.name in s.minute) or "—"
            hour = ", ".join(f"`{s.stream}`" for s in domain.sources if d.name in s.hour) or "—"
            if "minute" in domain.grains:
                lines.append(f"| `{d.name}` | {values} | {minute} | {hour} | {d.doc} |")
            else:
                lines.append(f"| `{d.name}` | {values} | {hour} | {d.doc} |")
    return "\n".join(lines) + "\n"


def describe() -> dict[str, object]:
    """The whitelist as plain data (grains, measures, dimensions per grain), e.g. for an
    explore page: a domain answers only its ``grains`` (enrollment: ``day`` and ``season``).

    ``streams`` says, per rollup width, which streams keep a dimension: a dimension splits or
    filters exactly the measures of those streams, so a form can offer only the combinations
    :func:`parse_spec` accepts instead of learning them from refusals.
    """
    return {
        d.name: {
            "grains": list(d.grains),
            "default_grain": d.default_grain,
            "measures": [{"name": m.name, "kind": m.kind, "stream": m.source, "doc": m.doc}
                         for m in d.measures],
            "dimensions": [{"name": x.name, "values": list(x.values), "doc": x.doc,
                            "minute": any(x.name in s.minute for s in d.sources),
                            "streams": {"minute": [s.stream for s in d.sources if x.name in s.minute],
                                        "hour": [s.stream for s in d.sources if x.name in s.hour]}}
                           for x in d.dimensions],
        }
        for d in DOMAINS.values()
    }


def grain_limits() -> dict[str, dict[str, int]]:
    """Per grain, in seconds: the default and the longest range, and how far back its rollup
    reaches (0 = as long as the raw retention), so a form can say the limits before a
    request runs into them."""
    return {g: {"default_s": int(DEFAULT_SPAN[g].total_seconds()),
                "max_s": int(MAX_SPAN[g].total_seconds()),
                "kept_s": int(MINUTE_KEPT.total_seconds()) if g == "minute" else 0}
            for g in GRAINS}
