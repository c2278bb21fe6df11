"""IOC's plotly.js build (``tools/plotly_build.py``): the bundle the app serves to Dash's charts
is made for the installed ``plotly`` package and holds every trace type the pages draw."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

from tools import plotly_build

ROOT = Path(__file__).resolve().parents[2]
#: every trace type plotly knows ("scattergl", "choropleth", …), from the Python package
TRACE_TYPES = {cls.__name__.lower() for _, cls in inspect.getmembers(go, inspect.isclass)
               if issubclass(cls, BaseTraceType) and cls is not BaseTraceType}


def drawn_trace_types() -> dict[str, str]:
    """Trace types named in the pages' and widgets' code → where: ``{"type": "bar"}`` in a
    dict literal, ``type="bar"`` in a call (``trace.update(type="bar")``)."""
    found: dict[str, str] = {}
    for package in ("layouts", "pages"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                values: list[ast.expr] = []
                if isinstance(node, ast.Dict):
                    values = [v for k, v in zip(node.keys, node.values, strict=True)
                              if isinstance(k, ast.Constant) and k.value == "type"]
                elif isinstance(node, ast.Call):
                    values = [kw.value for kw in node.keywords if kw.arg == "type"]
                for value in values:
                    if isinstance(value, ast.Constant) and value.value in TRACE_TYPES:
                        found.setdefault(str(value.value), f"{path.relative_to(ROOT)}:{value.lineno}")
    return found


def test_the_bundle_is_made_for_the_installed_plotly_package() -> None:
    version, traces = plotly_build.built()
    assert version == get_plotlyjs_version(), (
        f"assets/vendor/plotly/plotly.min.js is plotly.js {version}, the installed plotly package writes "
        f"figures for {get_plotlyjs_version()}: set plotly.js to that version in tools/plotly/package.json, "
        "run npm install --package-lock-only there, then python -m tools.plotly_build")
    assert traces == plotly_build.TRACES, "rebuild the bundle: python -m tools.plotly_build"


def test_every_trace_type_the_pages_draw_is_in_the_bundle() -> None:
    drawn = drawn_trace_types()
    assert {"bar", "scatter", "pie", "funnel", "heatmap"} <= set(drawn)  # the scan sees the charts
    _, traces = plotly_build.built()
    missing = {t: where for t, where in drawn.items() if t not in traces}
    assert not missing, (f"pages draw trace types the served plotly.js lacks: {missing}; add them to "
                         "TRACES in tools/plotly_build.py and run python -m tools.plotly_build")


def test_the_bundle_registers_the_traces_its_banner_names() -> None:
    text = plotly_build.OUT.read_text(encoding="utf-8")
    assert plotly_build.built() == (get_plotlyjs_version(), plotly_build.TRACES)
    assert "var Plotly=" in text[:2000]  # the global Dash's graph component looks for
    assert "require('plotly.js/lib/funnel')" in plotly_build.entry(plotly_build.TRACES)
    assert "lib/scatter" not in plotly_build.entry(plotly_build.TRACES)  # in plotly.js's core
    for trace in plotly_build.TRACES:  # each trace module names itself once
        assert f'name:"{trace}"' in text, trace
    # the full bundle registers these; this one must not carry them (it would not be smaller)
    for absent in ("scattergl", "choroplethmap", "mesh3d"):
        assert f'name:"{absent}"' not in text, absent
    assert len(text) < 2_000_000


def test_the_build_names_no_other_host_and_stops_when_plotly_moves_a_default() -> None:
    text = plotly_build.OUT.read_text(encoding="utf-8")
    assert "cdn.plot.ly" not in text and 'dflt:"/assets/geo/"' in text
    sample = ('a={dflt:"https://cdn.plot.ly/un/",'
              'd:["By default, the topojson files are fetched from cdn.plot.ly."]}')
    assert "cdn" not in plotly_build.local_only(sample)
    with pytest.raises(SystemExit, match="LOCAL_ONLY"):
        plotly_build.local_only(sample.replace("/un/", "/world/"))
