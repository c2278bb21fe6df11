"""The China province map: 34 filled shapes coloured by a ratio (plan completion on the
admissions cockpit), drawn from the GeoJSON shipped in ``assets/geo``.

Why filled polygons on plain axes rather than a Plotly ``geo`` / ``choropleth`` trace: a geo
subplot fetches a world topojson from a CDN (or from ``topojsonURL``) as soon as a trace has
a ``locationmode`` — a request the wall must never make. Plain axes draw the same shapes with
nothing to fetch, and colours are restyled by patching one ``fillcolor`` per province.

Projection: longitude/latitude with the latitude axis stretched 1.25× (≈ 1 / cos 37°, the
middle of China), as ECharts' maps do with their ``aspectScale``; shapes are simplified
(Douglas–Peucker, 0.04°, about half a pixel on a 1920-wide wall) to keep the figure small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from dash import Patch

from layouts.charts import base_layout
from layouts.drill import points
from layouts.i18n import t

GEOJSON = Path(__file__).resolve().parent.parent / "assets" / "geo" / "china_provinces.json"
TOLERANCE = 0.04
ASPECT = 1.25
X_RANGE = (73.0, 135.5)
Y_RANGE = (17.6, 53.8)

#: completion 0 → 1 (and beyond, capped), dark wall and light tablet
SCALES: dict[str, tuple[tuple[float, str], ...]] = {
    "dark": ((0.0, "#15305a"), (0.5, "#1c64b4"), (0.85, "#2fb5e8"), (1.0, "#8df0d6")),
    "light": ((0.0, "#dbe7f6"), (0.5, "#8fbbe8"), (0.85, "#3a8fd8"), (1.0, "#0f5ea8")),
}
NO_DATA = {"dark": "#26395e", "light": "#e4e9f1"}
BORDER = {"dark": "#0b1426", "light": "#ffffff"}


@dataclass(frozen=True)
class Province:
    """One division as the map draws it: its outline rings joined by ``None`` gaps."""

    code: str
    name: str
    name_en: str
    label: tuple[float, float]
    xs: tuple[float | None, ...]
    ys: tuple[float | None, ...]


def simplify(ring: list[tuple[float, float]], tolerance: float = TOLERANCE) -> list[tuple[float, float]]:
    """Douglas–Peucker on a closed ring; a ring that would collapse keeps its points."""
    if len(ring) <= 4:
        return ring
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    far = max(range(1, len(ring) - 1), key=lambda i: _dist2(ring[i], ring[0]))
    keep[far] = True
    stack = [(0, far), (far, len(ring) - 1)]
    while stack:
        a, b = stack.pop()
        best, best_d = -1, tolerance * tolerance
        for i in range(a + 1, b):
            d = _seg_dist2(ring[i], ring[a], ring[b])
            if d > best_d:
                best, best_d = i, d
        if best >= 0:
            keep[best] = True
            stack += [(a, best), (best, b)]
    out = [p for p, k in zip(ring, keep, strict=True) if k]
    return out if len(out) >= 4 else ring


def _dist2(p: tuple[float, float], q: tuple[float, float]) -> float:
    return (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2


def _seg_dist2(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return _dist2(p, a)
    s = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return _dist2(p, (a[0] + s * dx, a[1] + s * dy))


def load_geojson(path: Path = GEOJSON) -> dict[str, Any]:
    """The shipped FeatureCollection (see ``tools/geo_build.py`` for what it guarantees)."""
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def provinces() -> tuple[Province, ...]:
    """All 34 divisions in GB/T 2260 code order, read and simplified once per process."""
    out = []
    for f in load_geojson()["features"]:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for polygon in f["geometry"]["coordinates"]:
            ring = simplify([(p[0], p[1]) for p in polygon[0]])
            if xs:
                xs.append(None)
                ys.append(None)
            xs += [round(p[0], 2) for p in ring]
            ys += [round(p[1], 2) for p in ring]
        props = f["properties"]
        out.append(Province(props["code"], props["name"], props["name_en"], tuple(props["label"]),
                            tuple(xs), tuple(ys)))
    return tuple(sorted(out, key=lambda p: p.code))


def colour(value: float | None, theme: str = "dark") -> str:
    """The fill of a ratio on the theme's scale (capped to [0, 1]); no value → the no-data grey."""
    if value is None:
        return NO_DATA.get(theme, NO_DATA["dark"])
    scale = SCALES.get(theme, SCALES["dark"])
    v = max(0.0, min(1.0, float(value)))
    for (lo, c0), (hi, c1) in pairwise(scale):
        if v <= hi:
            f = (v - lo) / (hi - lo) if hi > lo else 0.0
            rgb = [round(int(c0[i:i + 2], 16) + f * (int(c1[i:i + 2], 16) - int(c0[i:i + 2], 16)))
                   for i in (1, 3, 5)]
            return "#" + "".join(f"{c:02x}" for c in rgb)
    return scale[-1][1]


def legend_stops(theme: str = "dark") -> str:
    """The scale as a CSS gradient, for the HTML legend under the map."""
    scale = SCALES.get(theme, SCALES["dark"])
    return "linear-gradient(90deg, " + ", ".join(f"{c} {p * 100:.0f}%" for p, c in scale) + ")"


def _rows_by_code(rows: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    return {str(r.get("province")): r for r in rows or []}


def _detail(p: Province, row: dict[str, Any] | None, lang: str, min_cell: int = 3) -> str:
    """What a tap on a province shows (tablets have no hover): name, admitted / plan, ratio,
    and the average score — or why it is not shown (a group under ``min_cell`` admitted, or
    one hidden with it so that it cannot be worked out)."""
    name = p.name if lang == "zh" else p.name_en
    if not row:
        return f"{name}<br>{t('status.no_data', lang)}"
    done = row.get("completion")
    ratio = "—" if done is None else f"{done * 100:.1f}%"
    text = (f"<b>{name}</b><br>{t('enrollment.admitted', lang)} {row.get('admitted', 0):,}"
            f" / {t('enrollment.plan', lang)} {row.get('plan', 0):,}"
            f"<br>{t('enrollment.completion', lang)} {ratio}")
    if row.get("avg_score") is not None:
        text += f"<br>{t('enroll.score_avg', lang)} {row['avg_score']:.1f}"
    elif row.get("admitted"):
        text += f"<br>{t('enroll.score_avg', lang)} {hidden_reason(row, lang, min_cell)}"
    return text


def hidden_reason(row: dict[str, Any], lang: str, min_cell: int) -> str:
    """Why a group with admitted candidates shows no score: "少于3人，不显示" for a group under
    ``min_cell``, else "为防推算，不显示" (hidden with a small one so it cannot be worked out)."""
    if int(row.get("admitted") or 0) < min_cell:
        return t("enroll.small_cell", lang).replace("{n}", str(min_cell))
    return t("enroll.complement_cell", lang)


def styles(rows: list[dict[str, Any]] | None, *, theme: str = "dark", lang: str = "zh",
           value: str = "completion", min_cell: int = 3) -> list[tuple[str, str]]:
    """``(fillcolor, tap text)`` of each province in code order, from ``by_province`` rows."""
    by_code = _rows_by_code(rows)
    out = []
    for p in provinces():
        row = by_code.get(p.code)
        v = row.get(value) if row else None
        out.append((colour(v, theme), _detail(p, row, lang, min_cell)))
    return out


def china_map(rows: list[dict[str, Any]] | None, *, theme: str = "dark", lang: str = "zh",
              value: str = "completion", min_cell: int = 3,
              hrefs: dict[str, str | None] | None = None) -> dict[str, Any]:
    """The figure: one filled trace per province (``meta`` = its code), in code order; a
    province in ``hrefs`` (code → its breakdown, ``layouts.drill``) leads there when tapped."""
    data = []
    for p, (fill, text) in zip(provinces(), styles(rows, theme=theme, lang=lang, value=value,
                                                                min_cell=min_cell), strict=True):
        data.append({
            "type": "scatter", "mode": "lines", "x": list(p.xs), "y": list(p.ys), "fill": "toself",
            "fillcolor": fill, "line": {"color": BORDER.get(theme, BORDER["dark"]), "width": 0.8},
            "hoveron": "fills", "hoverinfo": "text", "text": text, "name": p.name, "meta": p.code,
            "showlegend": False, **points((hrefs or {}).get(p.code)),
        })
    axis = {"visible": False, "fixedrange": True, "showgrid": False, "zeroline": False}
    layout = base_layout(
        theme, margin={"l": 0, "r": 0, "t": 0, "b": 0}, hovermode="closest", dragmode=False,
        xaxis={**axis, "range": list(X_RANGE), "constrain": "domain"},
        yaxis={**axis, "range": list(Y_RANGE), "scaleanchor": "x", "scaleratio": ASPECT,
               "constrain": "domain"},
        hoverlabel={"font": {"size": 15}},
    )
    layout.pop("transition", None)  # restyling 34 fills needs no animation
    return {"data": data, "layout": layout}


def china_map_patch(rows: list[dict[str, Any]] | None, *, theme: str = "dark", lang: str = "zh",
                    value: str = "completion", patch: Patch | None = None, min_cell: int = 3,
                    hrefs: dict[str, str | None] | None = None) -> Patch:
    """Only the colours, tap texts and links travel when the figures change; the shapes stay put."""
    patch = patch if patch is not None else Patch()
    for i, (p, (fill, text)) in enumerate(zip(provinces(), styles(rows, theme=theme, lang=lang, value=value,
                                                                  min_cell=min_cell), strict=True)):
        patch["data"][i]["fillcolor"] = fill
        patch["data"][i]["text"] = text
        if hrefs and hrefs.get(p.code):
            patch["data"][i]["ioc_href"] = hrefs[p.code]
    return patch
