"""Build ``assets/vendor/plotly/plotly.min.js``: plotly.js with only the trace types IOC's pages draw.

Why: Dash's graphs load plotly.js lazily, at a page's first chart, and the full bundle the
``plotly`` package ships holds every trace type (3D, maps, WebGL…): 4.7 MB that take a
browser 1.1–1.5 s of its main thread to evaluate on the 2-core reference machine, on every
page load, warm cache or not — the largest part of a cockpit page's time to settle
(``bench/page_load.py``). The pages draw five trace types; plotly.js built with just those is
1.2 MB and evaluates in about 0.25 s. The app serves it at the address Dash's graphs ask for
(``ioc_app.app.PLOTLY_JS_URL``), so nothing on a page changes but the time.

How: ``npm ci`` installs exactly ``tools/plotly/package-lock.json`` (plotly.js and esbuild,
pinned with their hashes) into a temporary folder, and esbuild bundles plotly.js's own
``lib/core`` with the trace modules in ``TRACES`` — the way plotly.js's custom-bundle guide
builds one — minified, as the global ``Plotly`` that Dash's graph component looks for. The
plotly.js version must be the one the installed ``plotly`` package is made for (its figures'
JSON is written for it): ``tests/tools/test_plotly_build.py`` fails when they differ, and when
a page draws a trace type not in ``TRACES``. Then run::

    python -m tools.plotly_build          # needs npm; writes assets/vendor/plotly/plotly.min.js

after changing the version in ``tools/plotly/package.json`` (and ``npm install
--package-lock-only`` there) or ``TRACES``. A build tool, not part of the product: nothing
under ``ioc_app``, ``ingest``, ``metrics``, ``layouts`` or ``pages`` imports it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(__file__).resolve().parent / "plotly"
OUT = ROOT / "assets" / "vendor" / "plotly" / "plotly.min.js"
#: the trace types the pages draw (``scatter`` is in plotly.js's core and always included)
TRACES = ("scatter", "bar", "pie", "funnel", "heatmap")
#: plotly.js's defaults that name another host: the world topojson of geo traces comes from
#: its CDN. This build holds no geo trace, and nothing the browser loads may name another host
#: (``tests/test_layers.py``): the default points at the app's own shapes folder instead
LOCAL_ONLY = (('dflt:"https://cdn.plot.ly/un/"', 'dflt:"/assets/geo/"'),
              ('"By default, the topojson files are fetched from cdn.plot.ly."',
               '"IOC\'s build holds no geo trace."'))
BANNER = re.compile(r"^/\*! IOC plotly\.js (?P<version>\S+) traces (?P<traces>[a-z0-9,]+) ")


def banner(version: str, traces: tuple[str, ...] = TRACES) -> str:
    """The first line of the bundle: what it is, read back by :func:`built`, and plotly.js's licence."""
    return (f"/*! IOC plotly.js {version} traces {','.join(traces)} (tools/plotly_build.py)\n"
            f" * plotly.js v{version}, Copyright 2012-2026, Plotly, Inc. All rights reserved.\n"
            " * Licensed under the MIT license */\n")


def built(path: Path = OUT) -> tuple[str, tuple[str, ...]]:
    """``(plotly.js version, trace types)`` of a built bundle, from its banner."""
    with path.open(encoding="utf-8") as f:
        match = BANNER.match(f.readline())
    if match is None:
        raise ValueError(f"{path}: no IOC plotly.js banner on the first line; rebuild it with "
                         "python -m tools.plotly_build")
    return match["version"], tuple(match["traces"].split(","))


def entry(traces: tuple[str, ...]) -> str:
    """The bundle's entry module: plotly.js's core with ``traces`` registered."""
    modules = ", ".join(f"require('plotly.js/lib/{t}')" for t in traces if t != "scatter")
    return ("'use strict';\nvar Plotly = require('plotly.js/lib/core');\n"
            f"Plotly.register([{modules}]);\nmodule.exports = Plotly;\n")


def local_only(body: str) -> str:
    """``body`` with the defaults in ``LOCAL_ONLY`` replaced (each found exactly once: a new
    plotly.js that moved them stops the build rather than shipping a CDN address)."""
    for cdn, local in LOCAL_ONLY:
        if body.count(cdn) != 1:
            raise SystemExit(f"plotly.js bundle: expected {cdn} once, found it {body.count(cdn)} times; "
                             "update LOCAL_ONLY in tools/plotly_build.py for this plotly.js version")
        body = body.replace(cdn, local)
    return body


def build(out: Path = OUT, traces: tuple[str, ...] = TRACES) -> str:
    """Install the pinned packages, bundle, write ``out``; returns the plotly.js version."""
    with tempfile.TemporaryDirectory(prefix="ioc-plotly-") as tmp:
        work = Path(tmp)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(SOURCE / name, work / name)
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"], cwd=work,
                       check=True)
        version = json.loads((work / "node_modules" / "plotly.js" / "package.json").read_text())["version"]
        (work / "entry.js").write_text(entry(traces))
        # the options of plotly.js's own esbuild config (esbuild-config.js); the only CSS it
        # imports is the map traces' (maplibre), not bundled here
        subprocess.run([str(work / "node_modules" / ".bin" / "esbuild"), "entry.js", "--bundle", "--minify",
                        "--format=iife", "--global-name=Plotly", "--define:global=window",
                        "--define:define.amd=false", "--target=es2016", "--loader:.css=empty",
                        "--legal-comments=eof", "--log-level=warning", "--outfile=bundle.js"],
                       cwd=work, check=True)
        body = local_only((work / "bundle.js").read_text(encoding="utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(banner(version, traces) + body, encoding="utf-8")
    return version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    version = build(args.out)
    print(f"wrote {args.out} (plotly.js {version}, traces {', '.join(TRACES)}, "
          f"{args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
