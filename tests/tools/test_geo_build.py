"""The map build tool (``tools/geo_build.py``): decoding ECharts' province shapes, and that
the product never imports it (it runs npm; the shapes it writes are committed)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from tools import geo_build
from tools.geo_build import clean_ring, decode_ring, signed_area

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("ioc_app", "ingest", "metrics", "layouts", "pages")


def test_decoding_follows_the_echarts_encoding() -> None:
    assert decode_ring("@@", [1024, 2048]) == [(1.0, 2.0)]
    # 'B' = 66 → 2 → +1; 'A' = 65 → 1 → -1 (zig-zag), deltas from the previous point
    assert decode_ring("@@BA", [0, 0], scale=1) == [(0.0, 0.0), (1.0, -1.0)]
    clockwise = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
    ring = clean_ring(clockwise)
    assert ring is not None and ring[0] == ring[-1] and signed_area(ring[:-1]) > 0
    assert clean_ring([(0.0, 0.0), (0.0001, 0.0), (0.0, 0.0001)]) is None  # gone after rounding


def test_build_turns_islands_into_polygons_and_drops_rings_inside_rings() -> None:
    def enc(points: list[tuple[int, int]]) -> tuple[str, list[int]]:
        def zz(v: int) -> str:
            return chr(((v << 1) ^ (v >> 31)) % (1 << 32) + 64)
        out, prev = "", points[0]
        for p in points:
            out += zz(p[0] - prev[0]) + zz(p[1] - prev[1])
            prev = p
        return out, list(points[0])

    def deg(points: list[tuple[float, float]]) -> list[tuple[int, int]]:
        return [(round(x * 1024), round(y * 1024)) for x, y in points]

    square = deg([(100, 30), (100, 31), (101, 31), (101, 30)])  # clockwise, as ECharts stores it
    inner = deg([(100.2, 30.2), (100.2, 30.4), (100.4, 30.4), (100.4, 30.2)])
    island = deg([(103, 30), (103, 30.5), (103.5, 30.5), (103.5, 30)])
    rings = [enc(r) for r in (square, inner, island)]
    raw = {"type": "FeatureCollection", "UTF8Encoding": True, "features": [{
        "id": "420000", "properties": {"name": "湖北", "cp": [100.5, 30.5]},
        "geometry": {"type": "MultiPolygon", "coordinates": [[s for s, _ in rings]],
                     "encodeOffsets": [[o for _, o in rings]]}}]}
    text = "echarts.registerMap('china', " + json.dumps(raw) + ");"
    built = geo_build.decode_china_js(text)
    (f,) = built["features"]
    assert f["id"] == "42" and f["properties"]["name_en"] == "Hubei"
    polygons = f["geometry"]["coordinates"]
    assert len(polygons) == 2  # the square and the island; the ring inside the square is gone
    square_ring, island_ring = polygons[0][0], polygons[1][0]
    corners = [(100.0, 30.0), (100.0, 31.0), (101.0, 30.0), (101.0, 31.0)]
    assert sorted(map(tuple, square_ring[:-1])) == corners
    assert signed_area([tuple(p) for p in square_ring[:-1]]) == 1.0  # turned counter-clockwise
    assert [103.5, 30.5] in island_ring


def test_the_runtime_never_imports_the_tools() -> None:
    """Build tools live in ``tools/``; a runtime module that imports one (even inside a
    function) would put npm and the build's code into the product."""
    for package in RUNTIME:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                else:
                    continue
                for name in names:
                    assert name.split(".")[0] != "tools", (
                        f"{path.relative_to(ROOT)} imports {name}: run build tools by hand "
                        f"(python -m tools.…) and commit what they write; the product reads the result")


def test_the_shipped_shapes_name_the_tool_that_built_them() -> None:
    shipped = json.loads((ROOT / "assets" / "geo" / "china_provinces.json").read_text(encoding="utf-8"))
    assert shipped["source"] == geo_build.SOURCE_NOTE
    assert geo_build.OUT == ROOT / "assets" / "geo" / "china_provinces.json"
