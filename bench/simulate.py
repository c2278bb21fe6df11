"""Backfill speed: ``simulate`` of N days at scale 1 and 10, through the real ingest path.

Prints, for each scale, the events generated per second by the simulators alone (the
baseline, measured in the same run on the same window) and the end-to-end backfill rate
(generate → validate → dedup → buffer → ClickHouse, the writer drained).

    .venv/bin/python bench/simulate.py [--days 30] [--scales 1,10]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import env_for  # noqa: E402

GENERATE = """
import sys, time
from zoneinfo import ZoneInfo
from ingest.sim import Simulator, World
from ingest.site import load_site
from ioc_app.settings import DEFAULT_SITE
days, scale = float(sys.argv[1]), float(sys.argv[2])
end = int(time.time() * 1000)
start = end - int(days * 86_400_000)
sim = Simulator(World(load_site(DEFAULT_SITE), ZoneInfo("Asia/Shanghai"), scale=scale))
t = time.perf_counter()
n = 0
for h in range(start, end, 3_600_000):
    n += sum(len(v) for v in sim.sent_between(h, min(end, h + 3_600_000)).values())
print(n, n / (time.perf_counter() - t))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=float, default=30)
    p.add_argument("--scales", default="1,10")
    args = p.parse_args()
    for scale in (float(s) for s in args.scales.split(",")):
        tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-sim-"))
        env = env_for(tmp, 8050)  # the port is not used: simulate serves nothing
        gen = subprocess.run([sys.executable, "-c", GENERATE, str(args.days), str(scale)], env=env,
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "ioc_app", "simulate", "--days", str(args.days),
                               "--scale", str(scale), "--quiet"], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - started
        total = int(re.search(r"^total\t(\d+)", done.stdout, re.M).group(1))
        print(f"bench=simulate days={args.days:g} scale={scale:g} events={total}")
        print(f"  generate only (baseline)   {float(gen[1]):>12,.0f} events/s")
        print(f"  backfill end to end        {total / elapsed:>12,.0f} events/s  ({elapsed:.1f} s, "
              f"incl. start-up and drain)")
        print(f"  ratio backfill / generate  {total / elapsed / float(gen[1]):.2f}")


if __name__ == "__main__":
    main()
