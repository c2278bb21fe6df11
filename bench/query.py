"""Analyst questions (``GET /api/v1/query/<domain>``) as history grows: p50/p95, cold and cached.

A fresh embedded store is filled the way ``bench/snapshot.py`` fills it (synthetic events
generated inside ClickHouse with ``INSERT … SELECT … FROM numbers()``, so the materialized views
fill the rollups and the latest-state tables exactly as ingest would; the same mix of streams,
spread over the last 400 days) up to 1 M, 10 M and 100 M stored events, and merged as a store
running for days would be. At each size every domain of the whitelist is asked:

- ``hour``: the longest range the API allows at that grain (92 days), all measures; and the
  same grouped by a dimension and filtered by another;
- ``day``: the longest range (800 days), grouped and filtered;
- ``enrollment``: by ``season`` (this season and the two before, by province) and by ``day``
  (the longest range, by batch, filtered; and one season's 92 days by major with the scores).

Each question goes through the query service the route and ``/explore`` use
(``ioc_app.query_service.answer``: validation, the SQL, the Arrow cache entry, the JSON body),
in-process (no HTTP). *Cold*: the cache is emptied before every call, so every call reaches
ClickHouse (the engine's own caches — marks, the OS page cache — stay warm, as on a server
that answers questions all day). *Cached*: the same question again, served from the cache.
Target: p95 ≤ 300 ms cold at 100 M. The machine is shared: the load average is printed with
each size, and the ratios (cached / cold, each size / the first) are measured in the same run.

``--before REF``: the query engine as the revision ``REF`` has it (``metrics/`` of that
commit, ``bench/before.py``) answers every question too, cold, taking turns with the current
one on the same store (``run`` alone, as both revisions build and read the answer frame: no
cache, no JSON), so the ratio after/before is measured under the same load. A rollup added
since ``REF`` is in the store; the earlier engine does not read it.

    .venv/bin/python bench/query.py [--sizes 1,10,100] [--repeat 7] [--cached-repeat 30]
                                    [--keep DIR] [--before REF]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from polars.testing import assert_frame_equal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.before import load_query, revision  # noqa: E402
from bench.snapshot import ZONE, _kept, _remember, _settled, fill, settle  # noqa: E402
from ingest.site import load_site, store_reference  # noqa: E402
from ioc_app import query_service, read  # noqa: E402
from ioc_app.app import create_app  # noqa: E402
from ioc_app.migrate import migrate  # noqa: E402
from ioc_app.settings import DEFAULT_SITE, Settings  # noqa: E402
from ioc_app.storage import Store  # noqa: E402
from metrics.query import DOMAINS, MAX_SPAN  # noqa: E402

Question = tuple[str, str, dict[str, list[str]]]
#: a fixed amount of engine work, timed between the questions: how much the machine's load
#: slows the engine at the moment (the questions' ratios to it compare across runs)
BASELINE = "baseline"
BASELINE_SQL = "SELECT sum(cityHash64(number)) FROM numbers(20000000)"


#: what each domain's questions split by (of its first stream): the questions analysts ask
#: most — per gate, per campus, per department — and a filter on an enumeration
SPLITS = {"gate": ("gate_id", "result", "pass"), "network": ("link_id", "", ""),
          "service": ("department", "channel", "web")}


def _split(domain: str) -> tuple[str, str, str]:
    """The dimension to group by and the filter of a domain's questions (a domain added
    later: its first stream's first dimension and first enumeration)."""
    if domain in SPLITS:
        return SPLITS[domain]
    source = DOMAINS[domain].sources[0]
    enum = next((x for x in DOMAINS[domain].dimensions if x.values and x.name in source.hour[1:]), None)
    return source.hour[0], enum.name if enum else "", enum.values[0] if enum else ""


def questions(now: datetime) -> list[Question]:
    """Every domain's questions (see the module docstring), with explicit ranges ending at the
    store's ``now``."""
    out: list[Question] = []

    def span(grain: str) -> dict[str, list[str]]:
        # the longest range whose buckets, rounded out, still fit the limit
        start = now - MAX_SPAN[grain] + timedelta(hours=1 if grain == "hour" else 24)
        return {"grain": [grain], "from": [start.isoformat()], "to": [now.isoformat()]}

    for name, domain in DOMAINS.items():
        if domain.answers is not None:
            continue
        group, dim, value = _split(name)
        flt = {dim: [value]} if value else {}
        measures = [",".join(m.name for m in domain.measures if m.source == domain.sources[0].stream)]
        out.append((name, "hour, all measures", span("hour")))
        where = f", {dim}={value}" if value else ""
        out.append((name, f"hour by {group}{where}",
                    {**span("hour"), "group_by": [group], "measures": measures, **flt}))
        out.append((name, f"day by {group}{where}",
                    {**span("day"), "group_by": [group], "measures": measures, **flt}))
    year = now.astimezone(ZONE).year
    out.append(("enrollment", "season by province",
                {"grain": ["season"], "group_by": ["province"], "to": [now.isoformat()],
                 "measures": ["admitted,filed,returned,score_min,score_avg,score_max"]}))
    out.append(("enrollment", "day by batch, category=general",
                {**span("day"), "group_by": ["batch"], "category": ["general"],
                 "measures": ["filed,admitted,returned,score_avg"]}))
    out.append(("enrollment", "day (one season) by major, scores",
                {"grain": ["day"], "from": [f"{year}-07-01"], "to": [f"{year}-09-30"], "group_by": ["major"],
                 "measures": ["admitted,score_min,score_avg,score_max"]}))
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


def measure(app: Any, store: Store, asked: list[Question], repeat: int, cached_repeat: int,
            before: Any = None) -> dict[str, tuple[float, float, float, float, int]]:
    """Per question: cold p50/p95, cached p50/p95 (ms) and the rows answered. The questions
    take turns, so a burst of load from elsewhere falls on all of them alike. With ``before``
    (an earlier revision's ``metrics.query``), each question's engine alone (``run``) of both
    revisions too, keyed ``… · engine`` and ``… · engine before``, their answers compared."""
    state = app.server.extensions[query_service.EXTENSION]
    cold: dict[str, list[float]] = {f"{d} · {label}": [] for d, label, _ in asked}
    warm: dict[str, list[float]] = {k: [] for k in cold}
    rows: dict[str, int] = {}
    engines: list[tuple[str, Any]] = []
    if before is not None:
        engines = [("engine", sys.modules["metrics.query"]), ("engine before", before)]
        for d, label, _ in asked:
            for suffix, _engine in engines:
                cold[f"{d} · {label} · {suffix}"], warm[f"{d} · {label} · {suffix}"] = [], []

    def engine(module: Any, domain: str, args: dict[str, list[str]]) -> Any:
        spec = module.parse_spec(domain, args, state.zone)
        return module.run(store, spec, state.zone)

    def ask(domain: str, args: dict[str, list[str]]) -> int:
        result = query_service.answer(domain, args, via="bench")
        query_service.json_body(result)
        return result.frame.height

    baseline = f"{BASELINE} · {BASELINE_SQL}"
    cold[baseline], warm[baseline], rows[baseline] = [], [], 1
    with app.server.test_request_context():
        for _ in range(repeat):
            t = time.perf_counter()
            store.rows(BASELINE_SQL)
            cold[baseline].append((time.perf_counter() - t) * 1000)
            warm[baseline].append(cold[baseline][-1])
            for domain, label, args in asked:
                state.cache.clear()
                t = time.perf_counter()
                rows[f"{domain} · {label}"] = ask(domain, args)
                cold[f"{domain} · {label}"].append((time.perf_counter() - t) * 1000)
                answers = []
                for suffix, module in engines:
                    t = time.perf_counter()
                    answers.append(engine(module, domain, args))
                    key = f"{domain} · {label} · {suffix}"
                    cold[key].append((time.perf_counter() - t) * 1000)
                    warm[key].append(cold[key][-1])
                    rows[key] = answers[-1].height
                if answers:  # floats summed in another order may differ in the last bits
                    assert_frame_equal(answers[0], answers[1], rel_tol=1e-9, abs_tol=1e-9)
        for domain, _label, args in asked:
            ask(domain, args)  # into the cache
        for _ in range(cached_repeat):
            for domain, label, args in asked:
                t = time.perf_counter()
                ask(domain, args)
                warm[f"{domain} · {label}"].append((time.perf_counter() - t) * 1000)
    return {k: (*percentiles(cold[k]), *percentiles(warm[k]), rows[k]) for k in cold}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,10,100", help="stored events, in millions")
    ap.add_argument("--repeat", type=int, default=7, help="cold calls of each question")
    ap.add_argument("--cached-repeat", type=int, default=30, help="cached calls of each question")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="keep the generated store in DIR and reuse it on the next run (topped up to "
                         "--sizes); its events keep the time they were generated around")
    ap.add_argument("--before", metavar="REF",
                    help="also time the query engine of revision REF (e.g. main) on the same store")
    args = ap.parse_args()
    before = load_query(args.before) if args.before else None
    tmp, now, have = _kept(args.keep, "site")
    try:
        store = Store(f"chdb://{tmp / 'engine'}")
        applied = migrate(store)
        store_reference(store, load_site(DEFAULT_SITE))
        settings = Settings(clickhouse_url=f"chdb://{tmp / 'engine'}", demo=False,
                            tokens_file=str(tmp / "tokens.toml"), roles_file=str(tmp / "roles.toml"))
        app = create_app(settings, store=store, background=False)
        asked = questions(now)
        first: dict[str, tuple[float, float, float, float, int]] = {}
        print(f"bench=query now={now.isoformat()} store={tmp} questions={len(asked)} "
              f"cold x{args.repeat}, cached x{args.cached_repeat}", flush=True)
        for millions in (int(s) for s in args.sizes.split(",")):
            total = millions * 1_000_000
            t = time.perf_counter()
            if total > have:
                fill(store, total, have, now)
                have = total
                settle(store)
                _remember(args.keep, now, have, "site")
            elif applied or not _settled(args.keep):
                settle(store)
                _remember(args.keep, now, have, "site")
            elif total < have:
                print(f"{total:,} skipped: the kept store already holds {have:,} events", flush=True)
                continue
            filled = time.perf_counter() - t
            loaded = load()
            took = measure(app, store, asked, args.repeat, args.cached_repeat, before)
            base = took.pop(f"{BASELINE} · {BASELINE_SQL}")
            engines = {k: took.pop(k) for k in list(took) if k.endswith((" · engine", " · engine before"))}
            worst = max(v[1] for v in took.values())
            first = first or took
            print(f"\n{total:>12,} stored events (filled in {filled:.0f} s); {loaded} before, {load()} after",
                  flush=True)
            print(f"  {'question':<58} {'rows':>7} {'cold p50':>9} {'p95':>7} {'cached p50':>10} {'p95':>6} "
                  f"{'cached/cold':>11} {'cold p95 / first size':>21}")
            for k, (c50, c95, w50, w95, n) in took.items():
                print(f"  {k:<58} {n:>7,} {c50:>9.1f} {c95:>7.1f} {w50:>10.2f} {w95:>6.2f} "
                      f"{w50 / c50:>11.3f} {c95 / first[k][1]:>21.2f}", flush=True)
            print(f"  worst cold p95 {worst:.0f} ms (target ≤ 300 ms at 100 M); baseline ({BASELINE_SQL}) "
                  f"p50 {base[0]:.0f} ms, p95 {base[1]:.0f} ms; worst cold p95 / baseline p50 "
                  f"{worst / base[0]:.1f}", flush=True)
            if engines:
                print(f"  engine alone (run), cold, this revision against {args.before} "
                      f"({revision(args.before)}), taking turns; same answers:")
                print(f"  {'question':<58} {'p50':>7} {'p95':>7} {'before p50':>10} {'p95':>7} "
                      f"{'after/before p50':>16} {'p95':>6}")
                for k in took:
                    a, b = engines[f"{k} · engine"], engines[f"{k} · engine before"]
                    print(f"  {k:<58} {a[0]:>7.1f} {a[1]:>7.1f} {b[0]:>10.1f} {b[1]:>7.1f} "
                          f"{a[0] / b[0]:>16.2f} {a[1] / b[1]:>6.2f}", flush=True)
        app.server.extensions[read.EXTENSION].pipeline.buffer.close()
        store.close()
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
