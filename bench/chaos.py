"""Exactly once under kills: the server, its ingest helpers, its writer and redis-server die
at random moments *and* at the named points of the ingest path, while clients keep sending.

Each run starts the real server (embedded engine; with ``--mode redis`` a durable local
redis-server as its buffer), arms fault points (``IOC_FAULTS``: between the insert and the
release of a batch, while a batch is reserved, after Redis released a batch but before its
reply, after a helper buffered a group, after the write-ahead log confirmed…), and has
``--clients`` threads send 1,000-event ``gate.pass`` batches with unique ids, retrying every
batch until it gets a 200. Meanwhile a killer SIGKILLs the server's process group or
redis-server every few seconds, and a supervisor restarts whatever died. Afterwards the
server is restarted without faults, the script waits until ``/readyz`` says the restart's
replay is complete and the buffer is empty, and counts from a fresh process:

- lost: acknowledged ids missing from ``gate_pass``;
- twice: rows beyond the distinct ids;
- unknown: stored ids that were never sent;
- rollups: ``sum(attempts)`` of the minute and hour rollups against the distinct ids.

Every figure must be 0 (rollups equal to distinct) in every run. A run takes one to two
minutes; the default (6 runs per mode, 1,500 requests and 8 kills or more each) about
twenty-five minutes on two cores.

    .venv/bin/python bench/chaos.py [--runs 6] [--mode both|embedded|redis] [--batches 1500]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench.validate import make_events  # noqa: E402
from tests.conftest import RedisServer, free_port  # noqa: E402

PER_REQUEST = 1_000
#: where each mode's processes die besides the killer's random moments
FAULTS = {
    "embedded": "ingest.buffered=0.004:group,writer.inserted=0.15:group,wal.confirmed=0.1:group",
    "redis": ("helper.appended=0.01:self,redis.reserved=0.15:rewrite,writer.inserted=0.15:group,"
              "redis.released=0.2:redis,redis.batch_claimed=0.3:group,redis.claimed=0.3:group"),
}
COUNT = """
import sys, json
from ioc_app.storage import Store
s = Store(sys.argv[1])
ids = s.query("SELECT event_id FROM gate_pass")["event_id"].to_list()
minute = s.rows("SELECT sum(attempts) FROM gate_pass_1m")[0][0]
hour = s.rows("SELECT sum(attempts) FROM gate_pass_1h")[0][0]
print(json.dumps({"ids": ids, "minute": int(minute or 0), "hour": int(hour or 0)}))
"""


class Server:
    """``python -m ioc_app run`` in its own session (its group is what a kill takes)."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = open(log, "a")
        self.proc = subprocess.Popen([sys.executable, "-m", "ioc_app", "run"],
                                     env={**env, "IOC_PORT": str(port)}, cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_up(self, timeout: float = 180) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return True
            except OSError:
                time.sleep(0.2)
        return False

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.log.close()

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()

    def readyz(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=10) as r:
            return json.loads(r.read())


@dataclass
class Verdict:
    mode: str
    sent: int = 0
    acked: int = 0
    stored: int = 0
    distinct: int = 0
    lost: int = 0
    twice: int = 0
    unknown: int = 0
    minute: int = 0
    hour: int = 0
    kills: dict[str, int] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)
    replay_s: float | None = None
    seconds: float = 0.0

    @property
    def exact(self) -> bool:
        return (self.lost, self.twice, self.unknown) == (0, 0, 0) and (
            self.minute == self.hour == self.distinct)

    def line(self) -> str:
        kills = " ".join(f"{k}={v}" for k, v in sorted(self.kills.items()))
        points = " ".join(f"{k}={v}" for k, v in sorted(self.points.items()))
        return (f"mode={self.mode} acked={self.acked} stored={self.stored} distinct={self.distinct} "
                f"lost={self.lost} twice={self.twice} unknown={self.unknown} "
                f"rollup_1m={self.minute} rollup_1h={self.hour} kills[{kills}] points[{points}] "
                f"replay_s={self.replay_s} run_s={self.seconds:.0f} "
                f"{'EXACT' if self.exact else 'WRONG'}")


def send(port: int, token: str, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/api/v1/ingest/gate.pass", body=body,
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):  # killed mid-request: no answer
        return 0
    finally:
        conn.close()


def run(mode: str, workdir: Path, *, batches: int = 300, clients: int = 4, kills: int = 8,
        seed: int = 1, faults: str | None = None, interval: tuple[float, float] = (2.0, 5.0),
        redis_share: float = 0.4, limit_s: float = 900) -> Verdict:
    """One run; the verdict compares acknowledged, sent and stored ids, and the rollups."""
    started = time.monotonic()
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update({"IOC_CLICKHOUSE_URL": f"chdb://{workdir / 'clickhouse'}",
                "IOC_TOKENS_FILE": str(workdir / "tokens.toml"), "IOC_DEMO": "0",
                "PYTHONPATH": str(ROOT)})
    redis_proc = RedisServer(workdir / "redis") if mode == "redis" else None
    if redis_proc is not None:
        env["IOC_REDIS_URL"] = redis_proc.url
    made = subprocess.run([sys.executable, "-m", "ioc_app", "token", "create", "chaos", "--streams",
                           "gate.pass"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    if made.returncode:
        raise RuntimeError(f"token create failed: {made.stderr[-2000:]}")
    token = made.stdout.strip()
    template = make_events(PER_REQUEST, int(time.time() * 1000))
    bodies = [orjson.dumps([{**e, "event_id": f"chaos-{seed}-{b}-{i}"} for i, e in enumerate(template)])
              for b in range(batches)]
    verdict = Verdict(mode, sent=batches * PER_REQUEST,
                      kills={"server": 0, "redis": 0, "fault_server": 0, "fault_redis": 0})
    faulty = {**env, "IOC_FAULTS": FAULTS[mode] if faults is None else faults}
    port = free_port()
    log_path = workdir / "server.log"
    state = {"server": Server(faulty, port, log_path)}
    guard = threading.Lock()  # one of killer and supervisor restarts at a time
    stop = threading.Event()
    deadline = time.monotonic() + limit_s
    spread_until = time.monotonic() + limit_s * 0.6
    total = lambda: sum(verdict.kills.values())  # noqa: E731

    def supervise() -> None:
        """Restart whatever a fault point killed."""
        while not stop.wait(0.1):
            with guard:
                if not state["server"].alive():
                    verdict.kills["fault_server"] += 1
                    state["server"].kill()
                    state["server"] = Server(faulty, port, log_path)
                if redis_proc is not None and not redis_proc.alive():
                    verdict.kills["fault_redis"] += 1
                    redis_proc.start()

    def killer() -> None:
        """SIGKILL the server's group or redis-server at random moments."""
        while not stop.wait(rng.uniform(*interval)) and time.monotonic() < deadline:
            with guard:
                if redis_proc is not None and rng.random() < redis_share:
                    redis_proc.kill()
                    verdict.kills["redis"] += 1
                    redis_proc.start()
                else:
                    state["server"].kill()
                    verdict.kills["server"] += 1
                    state["server"] = Server(faulty, port, log_path)

    acked: list[int] = []
    refused: list[int] = []

    def sender(mine: list[int]) -> None:
        for j, b in enumerate(mine):
            # spread the traffic over the kills: each quarter waits for a quarter of them, but
            # not past the spread's deadline (on a loaded machine restarts are slow, and the
            # batches must still be sent while kills go on)
            while total() < kills * (j * 4 // len(mine)) // 4 and time.monotonic() < spread_until:
                time.sleep(0.05)
            while time.monotonic() < deadline:
                status = send(port, token, bodies[b])
                if status == 200:
                    acked.append(b)
                    break
                if status not in (0, 429, 503):  # never a 4xx for good events, nor a 500
                    refused.append(status)
                    return
                time.sleep(0.1)

    threads = [threading.Thread(target=sender, args=(list(range(c, batches, clients)),))
               for c in range(clients)]
    helpers = [threading.Thread(target=supervise), threading.Thread(target=killer)]
    state["server"].wait_up()
    for t in helpers + threads:
        t.start()
    for t in threads:
        t.join()
    while total() < kills and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    for t in helpers:
        t.join()
    # a clean restart without faults; wait for its replay and an empty buffer
    state["server"].kill()
    if redis_proc is not None and not redis_proc.alive():
        redis_proc.start()
    server = Server(env, port, log_path)
    try:
        if not server.wait_up():
            raise RuntimeError(f"the server did not come back: {log_path.read_text()[-3000:]}")
        while time.monotonic() < deadline + 300:
            parts = server.readyz()["parts"]["buffer"]
            if parts["replay"] and parts["replay"]["complete"] and parts["depth"] == 0:
                verdict.replay_s = parts["replay"]["seconds"]
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"the buffer did not drain: {parts}")
    finally:
        server.stop()
    done = subprocess.run([sys.executable, "-c", COUNT, env["IOC_CLICKHOUSE_URL"]], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    if redis_proc is not None:
        redis_proc.stop()
    if done.returncode:
        raise RuntimeError(f"counting failed: {done.stderr[-2000:]}")
    counted = json.loads(done.stdout)
    ids: list[str] = counted["ids"]
    stored = set(ids)
    acked_ids = {f"chaos-{seed}-{b}-{i}" for b in acked for i in range(PER_REQUEST)}
    sent_ids = {f"chaos-{seed}-{b}-{i}" for b in range(batches) for i in range(PER_REQUEST)}
    verdict.acked = len(acked_ids)
    verdict.stored = len(ids)
    verdict.distinct = len(stored)
    verdict.lost = len(acked_ids - stored)
    verdict.twice = len(ids) - len(stored)
    verdict.unknown = len(stored - sent_ids)
    verdict.minute, verdict.hour = counted["minute"], counted["hour"]
    verdict.seconds = time.monotonic() - started
    for line in log_path.read_text(errors="replace").splitlines():
        if "event=fault.injected" in line:
            point = line.split("point=", 1)[1].split()[0]
            verdict.points[point] = verdict.points.get(point, 0) + 1
        elif "event=store.unwritten_blocks_forgotten" in line:  # a kill inside an insert
            verdict.points["store.unwritten_blocks"] = verdict.points.get("store.unwritten_blocks", 0) + 1
    if refused:
        text = log_path.read_text(errors="replace")
        at = text.find("Traceback")
        raise RuntimeError(f"good events were refused with {sorted(set(refused))}; the server "
                           f"said: {text[at:at + 4000] if at >= 0 else text[-3000:]}")
    if len(acked) != batches:
        raise RuntimeError(f"{batches - len(acked)} batches never got a 200 in {limit_s:.0f}s")
    return verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=6, help="runs per mode")
    parser.add_argument("--mode", choices=("both", "embedded", "redis"), default="both")
    parser.add_argument("--batches", type=int, default=1500, help="1,000-event requests per run")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--kills", type=int, default=8, help="kills per run at least")
    args = parser.parse_args()
    modes = ["embedded", "redis"] if args.mode == "both" else [args.mode]
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="ioc-chaos-") as tmp:
        for mode in modes:
            for k in range(args.runs):
                v = run(mode, Path(tmp) / f"{mode}-{k}", batches=args.batches, clients=args.clients,
                        kills=args.kills, seed=k + 1)
                print(v.line(), flush=True)
                verdicts.append(v)
                shutil.rmtree(Path(tmp) / f"{mode}-{k}", ignore_errors=True)
    for mode in modes:
        mine = [v for v in verdicts if v.mode == mode]
        print(f"summary mode={mode} runs={len(mine)} exact={sum(v.exact for v in mine)} "
              f"kills={sum(sum(v.kills.values()) for v in mine)} "
              f"lost={sum(v.lost for v in mine)} twice={sum(v.twice for v in mine)} "
              f"unknown={sum(v.unknown for v in mine)}")
    return 0 if all(v.exact for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
