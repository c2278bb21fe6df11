"""Idle cost: the CPU the server's processes use with no incoming events and no screen open.

Starts the real server (``python -m ioc_app run``: gunicorn, embedded engine, no demo feed;
``--mode redis`` adds a local redis-server as buffer and fan-out, ``both`` runs each), waits
until it is warm (the first snapshot is served and ``--warm`` more seconds have passed), then
reads the CPU time of every process of the server's process group — and of redis-server —
from ``/proc`` at the start and the end of ``--seconds`` (default 60), and the busiest
threads (``/proc/<pid>/task/*/stat``: thread id and the name the OS knows it by). Each mode is
measured with the previous core trigger (``IOC_CORE_TRIGGER=tick``: everything every second,
the writer polling every 20 ms) and the commit trigger, in the same run; the figures are
percent of one core over the window, and the ratio of the two.

    .venv/bin/python bench/idle.py [--seconds 60] [--warm 15] [--mode embedded|redis|both]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.access import add_person, session_header, sign_in, wait_healthy, wait_snapshot  # noqa: E402
from bench.ingest import free_port, start_redis  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _stat(path: Path) -> tuple[str, int, float] | None:
    """(name, process group, CPU seconds) of a /proc stat file, or None when it is gone."""
    try:
        text = path.read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, int(fields[2]), (int(fields[11]) + int(fields[12])) / TICK


def sample(pgids: set[int]) -> dict[tuple[int, int, str], float]:
    """CPU seconds so far of every thread of every process in ``pgids``, by (pid, tid, name)."""
    out: dict[tuple[int, int, str], float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        proc = _stat(Path(f"/proc/{entry}/stat"))
        if proc is None or proc[1] not in pgids:
            continue
        try:
            tids = os.listdir(f"/proc/{entry}/task")
        except OSError:
            continue
        for tid in tids:
            thread = _stat(Path(f"/proc/{entry}/task/{tid}/stat"))
            if thread is not None:
                out[(int(entry), int(tid), f"{proc[0]}/{thread[0]}")] = thread[2]
    return out


def measure(mode: str, trigger: str, seconds: float, warm: float) -> tuple[float, float]:
    """(% of a core used by the server's processes, of which redis-server) over ``seconds``."""
    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-idle-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update(IOC_CLICKHOUSE_URL=f"chdb://{tmp / 'engine'}", IOC_TOKENS_FILE=str(tmp / "tokens.toml"),
               IOC_DEMO="0", IOC_PORT=str(port), IOC_CORE_TRIGGER=trigger, PYTHONPATH=str(ROOT))
    redis_proc = None
    server = None
    try:
        if mode == "redis":
            redis_proc, env["IOC_REDIS_URL"] = start_redis(tmp)
        password = add_person(env, "bench-idle", ("viewer",))
        log = tmp / "server.log"
        server = subprocess.Popen([sys.executable, "-m", "ioc_app", "run"], env=env, cwd=ROOT,
                                  stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server, 120, log)
        wait_snapshot(url, session_header(sign_in(url, "bench-idle", password)))
        time.sleep(warm)  # start-up work (migrations, the first figures, sign-in) is over
        groups = {server.pid} | ({redis_proc.pid} if redis_proc else set())
        before = sample(groups)
        started = time.monotonic()
        time.sleep(seconds)
        after = sample(groups)
        wall = time.monotonic() - started
        used = {k: v - before.get(k, 0.0) for k, v in after.items()}
        total = sum(used.values()) / wall * 100
        redis_pct = sum(v for (pid, _, _), v in used.items()
                        if redis_proc and pid == redis_proc.pid) / wall * 100
        busiest = sorted(used.items(), key=lambda kv: -kv[1])[:8]
        print(f"bench=idle mode={mode} trigger={trigger} seconds={wall:.0f} cpu={total:.2f}% of a core "
              f"(redis-server {redis_pct:.2f}%) load={os.getloadavg()[0]:.2f}")
        for (pid, tid, name), v in busiest:
            if v > 0:
                print(f"    {v / wall * 100:6.2f}%  pid={pid} tid={tid} {name}")
        return total, redis_pct
    finally:
        if server is not None:
            server.terminate()
            server.wait(60)
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warm", type=float, default=15)
    ap.add_argument("--mode", choices=("embedded", "redis", "both"), default="both")
    args = ap.parse_args()
    modes = ("embedded", "redis") if args.mode == "both" else (args.mode,)
    results = {(m, tr): measure(m, tr, args.seconds, args.warm) for m in modes for tr in ("tick", "commit")}
    for m in modes:
        old, new = results[(m, "tick")][0], results[(m, "commit")][0]
        print(f"{m}: idle CPU tick {old:.2f}% → commit {new:.2f}% of a core (commit / tick = "
              f"{new / old if old else float('nan'):.2f})")


if __name__ == "__main__":
    main()
