"""Personal data never stored by accident, through the real app on the real engine: dead
letters redacted (nothing of an ID number anywhere in the store's files), sources bound to
their tokens, replays of redacted letters, owner-only files, the dead letters' retention and
pseudonyms at the import edge."""

from __future__ import annotations

import random
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from ingest.enrollment import ENROLLMENT_ADMISSION as ADMISSION
from ingest.gate import GATE_PASS
from ingest.pii import _ID_CHECK, _ID_WEIGHTS, DROPPED, RAW_CAP, REDACTED, pseudonym
from ingest.registry import BY_NAME
from ioc_app import auth, read, roles
from ioc_app.app import create_app
from ioc_app.audit import SpoolSink
from ioc_app.migrate import migrate
from ioc_app.secret import site_key
from ioc_app.settings import Settings
from ioc_app.storage import Store
from metrics import deadletter
from tests.ingest.strategies import random_events

NOW = datetime.now(UTC).replace(microsecond=0)


def unique_id_number() -> str:
    """An ID number no other test sends (a valid check digit, a random birth date)."""
    rng = random.Random(uuid.uuid4().int)
    body = f"3101{rng.randrange(10, 99)}{rng.randrange(1950, 2005)}{rng.randrange(1, 13):02d}" \
           f"{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


@pytest.fixture(scope="module")
def app_env(engine_path: Path, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("protect")
    store = Store(f"chdb://{engine_path}", database="t_" + uuid.uuid4().hex[:12])
    migrate(store)
    settings = Settings(clickhouse_url=f"chdb://{tmp / 'store'}", demo=False,
                        tokens_file=str(tmp / "tokens.toml"))
    app = create_app(settings, store=store, background=False)
    runtime = app.server.extensions[read.EXTENSION]
    tokens = {
        "gate": auth.create_token(settings.tokens_file, "gate-sys", ["gate.pass"], set(BY_NAME)),
        "admin": auth.create_token(settings.tokens_file, "ops", ["*"], set(BY_NAME)),
    }
    client = app.server.test_client()
    yield client, runtime, tokens, settings, engine_path
    runtime.pipeline.buffer.close()
    store.command(f"DROP DATABASE IF EXISTS {store.database}")


def post(client, tokens, events, token: str = "gate"):
    return client.post("/api/v1/ingest/gate.pass", data=orjson.dumps(events),
                       headers={"Content-Type": "application/json",
                                "Authorization": f"Bearer {tokens[token]}"})


def letters(client, tokens) -> list[dict]:
    r = client.get("/api/v1/deadletter?stream=gate.pass&limit=1000",
                   headers={"Authorization": f"Bearer {tokens['admin']}"})
    return r.get_json()["letters"]


def files_containing(folder: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n!r}" for n in needles if n in data]
    return found


def test_a_dead_letter_with_personal_data_leaves_none_in_the_store(app_env) -> None:
    client, runtime, tokens, settings, engine = app_env
    number = unique_id_number()
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    mobile = f"+86 13{random.randrange(3, 10)}-{random.randrange(1000, 9999)}-{random.randrange(1000, 9999)}"
    blob = "/9j/4AAQSkZJRgABAQ" + "QUJD" * 262_144  # a 1 MB base64 photo
    ev = random_events(GATE_PASS, 3, 31, NOW)
    ev[0]["person_key"] = spaced
    ev[1]["person_key"] = mobile
    ev[2]["face_image"] = blob
    ev[2]["id_card"] = number
    body = post(client, tokens, ev).get_json()
    assert body["rejected"] == 3
    reply = orjson.dumps(body)
    assert number.encode() not in reply and mobile.encode() not in reply and b"QUJDQUJD" not in reply
    runtime.writer.flush_once(force=True)
    runtime.store.command("OPTIMIZE TABLE ioc_deadletter FINAL")
    kept = [lt for lt in letters(client, tokens) if lt["raw"]["event_id"] in {e["event_id"] for e in ev}]
    assert len(kept) == 3
    by_id = {lt["raw"]["event_id"]: lt for lt in kept}
    assert by_id[ev[0]["event_id"]]["raw"]["person_key"].startswith(REDACTED)
    assert by_id[ev[0]["event_id"]]["field"] == "person_key"
    assert by_id[ev[0]["event_id"]]["reason"] == "pii_not_allowed"
    assert by_id[ev[2]["event_id"]]["raw"]["face_image"].startswith(DROPPED)
    text = orjson.dumps(kept)
    digits = number.encode()
    for needle in (digits, spaced.encode(), mobile.encode(), mobile[4:].encode(), b"QUJDQUJDQUJD"):
        assert needle not in text
    for row in runtime.store.rows("SELECT raw FROM ioc_deadletter"):
        assert len(row[0].encode()) <= RAW_CAP
    # nothing of it in the bytes of the engine's files or the write-ahead log
    needles = [digits, spaced.encode(), mobile.encode(), number[6:14].encode() + number[14:].encode()]
    assert files_containing(engine, needles) == []
    assert files_containing(settings.wal_dir, needles) == []


def test_an_event_may_not_claim_another_source(app_env) -> None:
    client, runtime, tokens, *_ = app_env
    ev = random_events(GATE_PASS, 2, 32, NOW)
    ev[0]["source"] = "campus-card-system"
    ev[1]["source"] = "gate-sys"  # repeating the token's source is fine
    body = post(client, tokens, ev).get_json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    err = body["errors"][0]
    assert (err["field"], err["reason"]) == ("source", "source_mismatch")
    assert "'gate-sys'" in err["message"] and "leave source out" in err["message"]
    runtime.writer.flush_once(force=True)
    assert runtime.store.rows("SELECT count() FROM gate_pass WHERE source = 'campus-card-system'") == [(0,)]


def test_redacted_letters_replay_only_with_fixes_keeping_source_and_audited(app_env) -> None:
    client, runtime, tokens, *_ = app_env
    ev = random_events(GATE_PASS, 2, 33, NOW)
    ev[0]["person_key"] = unique_id_number()
    ev[1]["lane"] = 99  # nothing personal: replayable as stored once the rule allows it
    post(client, tokens, ev)
    runtime.writer.flush_once(force=True)
    mine = {lt["raw"]["event_id"]: lt for lt in letters(client, tokens)}
    redacted, plain = mine[ev[0]["event_id"]], mine[ev[1]["event_id"]]
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    r = client.post("/api/v1/deadletter/replay", headers=admin, json={"ids": [redacted["id"]]}).get_json()
    assert (r["accepted"], r["still_rejected"]) == (0, 1)
    runtime.writer.flush_once(force=True)
    still = {lt["id"]: lt for lt in letters(client, tokens)}[redacted["id"]]
    assert still["reason"] == "redacted" and "fixes" in still["message"]
    # a fix may not move the event to another source
    moved = {**ev[0], "person_key": "pk-5d2f", "source": "campus-card-system"}
    r = client.post("/api/v1/deadletter/replay", headers=admin,
                    json={"fixes": {redacted["id"]: moved}}).get_json()
    assert r["still_rejected"] == 1
    fixed = {**ev[0], "person_key": "pk-5d2f"}
    r = client.post("/api/v1/deadletter/replay", headers=admin,
                    json={"fixes": {redacted["id"]: fixed, plain["id"]: {**ev[1], "lane": 2}}}).get_json()
    assert (r["accepted"], r["still_rejected"]) == (2, 0)
    runtime.writer.flush_once(force=True)
    got = runtime.store.rows("SELECT source FROM gate_pass WHERE event_id IN {ids:Array(String)}",
                             {"ids": [ev[0]["event_id"], ev[1]["event_id"]]})
    assert got == [("gate-sys",), ("gate-sys",)]
    rows = runtime.store.rows("SELECT detail FROM ioc_audit WHERE action = 'deadletter.fix'")
    details = [orjson.loads(d) for (d,) in rows]
    assert any(set(d["letters"]) == {redacted["id"], plain["id"]} and "person_key" in d["fields"]
               for d in details)
    assert all(b"pk-5d2f" not in orjson.dumps(d) for d in details)  # names of fields, not values


def test_files_ioc_writes_are_owner_only(app_env) -> None:
    client, _, tokens, settings, _ = app_env
    post(client, tokens, random_events(GATE_PASS, 1, 34, NOW))  # a WAL segment exists
    roles.save(settings.roles_path, roles.RoleBook({"someone": ("viewer",)}, ()))
    SpoolSink(settings.var_dir / "audit-spool")([{"action": "test"}])  # type: ignore[list-item]
    site_key(settings)
    paths = [Path(settings.tokens_file), settings.var_dir / "secret_key", settings.var_dir / "site_key",
             settings.roles_path, settings.access_db,
             *(settings.var_dir / "audit-spool").iterdir(),
             *(p for p in settings.wal_dir.rglob("*") if p.is_file())]
    assert any(p.suffix == ".seg" for p in paths)
    modes = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in paths if p.exists()}
    assert len(modes) >= 8
    assert {m for m in modes.values()} == {"0o600"}, modes
    wal_dirs = [settings.wal_dir, *(p for p in settings.wal_dir.rglob("*") if p.is_dir())]
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in wal_dirs} == {"0o700"}


def test_dead_letters_have_their_own_retention(migrated: Store) -> None:
    store = migrated  # the migrations alone (no start-up step) give 30 days
    ddl = store.rows("SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
                     "AND name = 'ioc_deadletter'")[0][0]
    assert "toIntervalDay(30)" in ddl
    assert deadletter.keep_for(store, 45) is True
    assert deadletter.keep_for(store, 45) is False
    assert "toIntervalDay(45)" in store.rows(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
        "AND name = 'ioc_deadletter'")[0][0]
    deadletter.keep_for(store, 30)
    from ioc_app.settings import load_settings

    assert load_settings({"IOC_DEADLETTER_DAYS": "14"}, dotenv=None).deadletter_days == 14
    assert Settings().deadletter_days == 30


def test_import_pseudonymises_identifier_columns_before_buffering(pipeline, tmp_path: Path) -> None:
    from ingest.importer import import_files
    from ioc_app.importing import LocalSink

    key = site_key(Settings(tokens_file=str(tmp_path / "var" / "tokens.toml")))
    number = unique_id_number()
    exam = f"26110105{random.randrange(10**6):06d}"
    ts = NOW.isoformat()
    csv = tmp_path / "admitted.csv"
    csv.write_text("事件编号,时间,考生号,身份证号,年份,省份,批次,类别,科类,学院,专业,状态,成绩\n"
                   f"a1,{ts},{exam},{number},2026,北京,本科批,普通类,物理类,c01,m01,录取,651.5\n",
                   encoding="utf-8")
    [summary] = import_files(LocalSink(pipeline), ADMISSION, [csv], source="admissions",
                             zone=ZoneInfo("Asia/Shanghai"), site_key=key, progress=False)
    assert (summary.accepted, summary.rejected) == (1, 0), summary.first_errors
    needles = [number.encode(), exam.encode()]
    wal = pipeline.buffer.dir
    assert files_containing(wal, needles) == []
    pipeline.writer.flush_once(force=True)
    assert pipeline.store.rows("SELECT candidate_key FROM enrollment_admission") == [(pseudonym(key, exam),)]
    assert all(number not in str(r) and exam not in str(r)
               for r in pipeline.store.rows("SELECT * FROM enrollment_admission"))
