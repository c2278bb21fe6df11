"""Redis as a hardened shared store: the query cache never unpickles what it reads, a Redis
that requires a password or speaks only TLS serves every part of the product (query
cache, sessions, rate limits, ingest buffer), every client comes from one function, and a
plaintext URL to another host is named in the log. All on real ``redis-server`` processes."""

from __future__ import annotations

import ast
import datetime as dt
import ipaddress
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ingest.redis_client import connect
from ingest.registry import BY_NAME
from ioc_app import auth, read
from ioc_app.app import create_app
from ioc_app.cache import MARK, MemoryBytesCache
from ioc_app.query_service import KEY_PREFIX
from ioc_app.runtime import redis_for
from ioc_app.settings import RedisTLS, Settings, SettingsError, load_settings
from ioc_app.storage import Store
from tests.conftest import ROOT, RedisServer, signed_in
from tests.ioc_app.test_query_api import PAST, T0, CountingStore, make_client, passes, store_events

PICKLERS = ("pickle", "dill", "cloudpickle", "flask_caching", "shelve", "joblib")
SAME_SITE = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}


@pytest.fixture()
def counting(migrated: Store, engine_path: Path) -> Iterator[CountingStore]:
    s = CountingStore(f"chdb://{engine_path}", database=migrated.database)
    store_events(s, passes(180, T0, 1))
    yield s
    s.close()


class Planted:
    """What somebody able to write to Redis could leave under a cache key: a pickle that runs
    ``os.mkdir(marker)`` when it is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (self.marker,))


def test_a_pickle_planted_in_the_query_cache_is_never_unpickled(counting: CountingStore, tmp_path: Path,
                                                               redis_server: RedisServer) -> None:
    c = make_client(counting, tmp_path, redis_url=redis_server.url)
    r = redis.Redis.from_url(redis_server.url)
    try:
        first = c.get("/api/v1/query/gate", query_string=PAST)
        assert first.status_code == 200 and first.headers["X-IOC-Cache"] == "miss"
        [key] = r.keys(KEY_PREFIX + "*")
        assert r.get(key).startswith(MARK)  # Arrow IPC bytes behind IOC's marker
        marker = tmp_path / "unpickled"
        payload = pickle.dumps(Planted(marker))
        # as a pickling cache writes it ("!" + pickle), bare, and behind IOC's own marker
        for planted in (b"!" + payload, payload, MARK + payload):
            r.set(key, planted, ex=600)
            again = c.get("/api/v1/query/gate", query_string=PAST)
            assert not marker.exists(), "the planted pickle was loaded"
            assert again.status_code == 200 and again.headers["X-IOC-Cache"] == "miss"
            assert again.data == first.data
            kept = r.get(key)
            assert kept.startswith(MARK) and payload not in kept  # replaced by a fresh answer
        assert c.get("/api/v1/query/gate", query_string=PAST).headers["X-IOC-Cache"] == "hit"
        assert counting.analyst_queries == 4
    finally:
        r.close()
        c.runtime.pipeline.buffer.close()


def test_the_in_process_cache_keeps_bytes_only() -> None:
    cache = MemoryBytesCache(threshold=2)
    with pytest.raises(TypeError, match="bytes"):
        cache.set("k", {"rows": []}, 60)  # type: ignore[arg-type]
    cache.set("a", b"1", 60)
    cache.set("b", b"2", 60)
    cache.set("c", b"3", 60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, b"2", b"3")
    cache.set("gone", b"4", 0)
    assert cache.get("gone") is None


def test_no_product_module_pickles_or_builds_its_own_redis_client() -> None:
    """pickle (and the caches built on it) never reads what a shared store holds, and every
    Redis client is made by ``ingest.redis_client.connect`` so its password and TLS options
    apply everywhere."""
    factory = "ingest/redis_client.py"
    for folder in ("ioc_app", "ingest", "metrics", "pages", "layouts"):
        for path in (ROOT / folder).rglob("*.py"):
            where = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                               else [node.module or ""])
                    for module in modules:
                        assert module.split(".")[0] not in PICKLERS, f"{where}: imports {module}"
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("redis"):
                        assert not {a.name for a in node.names} & {"Redis", "StrictRedis", "from_url"}, where
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and where != factory:
                    made_here = node.func.attr in ("from_url", "StrictRedis") or (
                        node.func.attr == "Redis" and isinstance(node.func.value, ast.Name)
                        and node.func.value.id == "redis")
                    assert not made_here, f"{where}:{node.lineno}: use ingest.redis_client.connect"


def test_a_redis_that_requires_a_password(counting: CountingStore, tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", password="p4ss-w0rd-for-tests")
    try:
        with pytest.raises(redis.RedisError, match=r"(?i)auth"):
            redis.Redis(port=server.port).set("x", 1)  # without it, Redis refuses
        assert server.url.startswith("redis://:p4ss-w0rd-for-tests@127.0.0.1:")
        c = make_client(counting, tmp_path / "app", redis_url=server.url)
        try:
            _every_part_uses_it(c, load_settings(_env(server), dotenv=None))
        finally:
            c.runtime.pipeline.buffer.close()
    finally:
        server.stop()


def _every_part_uses_it(c: Any, settings: Settings) -> None:
    """The query cache, sessions, rate limits and the ingest buffer all live in the Redis of
    ``settings``."""
    assert c.get("/api/v1/query/gate", query_string=PAST).headers["X-IOC-Cache"] == "miss"
    assert c.get("/api/v1/query/gate", query_string=PAST).headers["X-IOC-Cache"] == "hit"
    login = c.post("/auth/login", data={"name": "nobody", "password": "wrong"}, headers=SAME_SITE)
    assert login.status_code in (200, 401, 403), login.status_code
    r = redis_for(settings)
    try:
        keys = {k.decode() for k in r.keys("*")}
        assert any(k.startswith(KEY_PREFIX) for k in keys), keys  # the query cache
        assert any(k.startswith("ioc:session:") for k in keys), keys  # signed_in's session
        assert any(k.startswith("LIMITS") for k in keys), keys  # the sign-in rate limit
        assert any(k.startswith("ioc:") and "stream" in r.type(k).decode() for k in keys), keys  # buffer
    finally:
        r.close()


def _env(server: RedisServer, **extra: str) -> dict[str, str]:
    return {"IOC_REDIS_URL": server.url, "IOC_DEMO": "0", **extra}


def _certificates(folder: Path) -> dict[str, str]:
    """A private CA, a server certificate for localhost/127.0.0.1 and a client certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write(stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
        (folder / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / f"{stem}.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (folder / f"{stem}.key").chmod(0o600)
        return str(folder / f"{stem}.crt"), str(folder / f"{stem}.key")

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("IOC test CA")).issuer_name(name("IOC test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))

    def issue(cn: str, usage: x509.ObjectIdentifier, san: list[x509.GeneralName]) -> tuple[Any, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(san), critical=False)
                .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        return cert, key

    files: dict[str, str] = {}
    files["ca"], _ = write("ca", ca, ca_key)
    server = issue("localhost", ExtendedKeyUsageOID.SERVER_AUTH,
                   [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    files["cert"], files["key"] = write("server", *server)
    client = issue("ioc", ExtendedKeyUsageOID.CLIENT_AUTH, [x509.DNSName("ioc")])
    files["client_cert"], files["client_key"] = write("client", *client)
    return files


def test_a_redis_that_speaks_only_tls(counting: CountingStore, tmp_path: Path) -> None:
    files = _certificates(tmp_path / "pki")
    server = RedisServer(tmp_path / "redis", tls=files)  # redis-server asks for a client certificate
    tls = {"IOC_REDIS_CA_FILE": files["ca"], "IOC_REDIS_CERT_FILE": files["client_cert"],
           "IOC_REDIS_KEY_FILE": files["client_key"]}
    try:
        settings = load_settings({
            **_env(server, **tls), "IOC_CLICKHOUSE_URL": f"chdb://{tmp_path / 'store'}",
            "IOC_TOKENS_FILE": str(tmp_path / "app" / "tokens.toml"),
            "IOC_ROLES_FILE": str(tmp_path / "app" / "roles.toml")}, dotenv=None)
        assert settings.redis_url.startswith("rediss://")
        app = create_app(settings, store=counting, background=False)
        c = app.server.test_client()
        signed_in(app, c)
        c.runtime = app.server.extensions[read.EXTENSION]
        try:
            _every_part_uses_it(c, settings)
            # the ingest helper processes connect with the same options
            assert c.runtime.offload is not None
            token = auth.create_token(settings.tokens_file, "gate-sys", ["gate.pass"], set(BY_NAME))
            sent = c.post("/api/v1/ingest/gate.pass", data=orjson.dumps(passes(2, T0, 9)),
                          headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            assert sent.status_code == 200 and orjson.loads(sent.data)["accepted"] == 2, sent.data
        finally:
            if c.runtime.offload is not None:
                c.runtime.offload.close()
            c.runtime.pipeline.buffer.close()
        # the server's certificate is checked: without the private CA it is not trusted
        with pytest.raises(redis.ConnectionError, match=r"(?i)certificate verify failed"):
            connect(server.url, RedisTLS(cert_file=files["client_cert"], key_file=files["client_key"])).ping()
        # and the server checks ours: without a client certificate it hangs up
        with pytest.raises(redis.ConnectionError):
            connect(server.url, RedisTLS(ca_file=files["ca"])).ping()
        # plaintext to the TLS port gets nothing
        with pytest.raises(redis.ConnectionError):
            connect(server.url.replace("rediss://", "redis://")).ping()
    finally:
        server.stop()


def test_tls_files_need_a_rediss_url(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(SettingsError, match="IOC_REDIS_CA_FILE is set but IOC_REDIS_URL is not rediss://"):
        load_settings({"IOC_REDIS_URL": "redis://10.0.0.5:6379/0", "IOC_REDIS_CA_FILE": str(ca)}, dotenv=None)
    with pytest.raises(SettingsError, match="IOC_REDIS_CERT_FILE and IOC_REDIS_KEY_FILE go together"):
        load_settings({"IOC_REDIS_URL": "rediss://redis.example.edu.cn:6380/0",
                       "IOC_REDIS_CERT_FILE": str(ca)}, dotenv=None)
    with pytest.raises(SettingsError, match=r"IOC_REDIS_CA_FILE=.*no such file"):
        load_settings({"IOC_REDIS_URL": "rediss://redis.example.edu.cn:6380/0",
                       "IOC_REDIS_CA_FILE": str(tmp_path / "missing.crt")}, dotenv=None)


@pytest.mark.parametrize(("name", "url", "warned"), [
    ("IOC_REDIS_URL", "redis://:hunter2-secret@10.20.30.40:6379/0", "rediss://"),
    ("IOC_REDIS_URL", "redis://redis.example.edu.cn:6379/0", "rediss://"),
    ("IOC_CLICKHOUSE_URL", "http://ioc:hunter2-secret@ch.example.edu.cn:8123/ioc", "https://"),
    ("IOC_REDIS_URL", "redis://127.0.0.1:6379/0", None),
    ("IOC_REDIS_URL", "redis://localhost:6379/0", None),
    ("IOC_REDIS_URL", "rediss://redis.example.edu.cn:6380/0", None),
    ("IOC_REDIS_URL", "unix:///run/redis/redis.sock", None),
    ("IOC_CLICKHOUSE_URL", "http://[::1]:8123/ioc", None),
    ("IOC_CLICKHOUSE_URL", "https://ch.example.edu.cn:8443/ioc", None),
])
def test_a_plaintext_url_to_another_host_is_named_in_the_log(name: str, url: str, warned: str | None,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="ioc.settings"):
        load_settings({name: url}, dotenv=None)
    lines = [r.getMessage() for r in caplog.records if "settings.plaintext" in r.getMessage()]
    if warned is None:
        assert lines == []
    else:
        assert len(lines) == 1 and f"setting={name}" in lines[0] and warned in lines[0], lines
        assert "hunter2" not in caplog.text  # the credentials in the URL are never logged
