"""Local receivers for the contact-point tests: an HTTP server capturing posts (and checking
each robot's signature with its own, independent reading of the channel's scheme) and an
SMTP server (aiosmtpd), each on a free loopback port, in a thread of the test process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass
class Post:
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes
    verified: bool | None = None  # the signature checked by the receiver (None: not signed)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def dingtalk_ok(secret: str, query: dict[str, str], max_age_ms: int = 3_600_000) -> bool:
    """DingTalk's server check: sign = urlencoded base64 HMAC-SHA256(secret, "ts\\nsecret")."""
    ts = query.get("timestamp", "")
    if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > max_age_ms:
        return False
    want = base64.b64encode(hmac.new(secret.encode("utf-8"), f"{ts}\n{secret}".encode(),
                                     digestmod=hashlib.sha256).digest()).decode()
    return hmac.compare_digest(query.get("sign", ""), want)


def feishu_ok(secret: str, body: dict[str, Any]) -> bool:
    """Feishu's check: sign = base64 HMAC-SHA256 keyed by "ts\\nsecret" over nothing."""
    ts = str(body.get("timestamp", ""))
    key = f"{ts}\n{secret}".encode()
    want = base64.b64encode(hmac.new(key, msg=b"", digestmod=hashlib.sha256).digest()).decode()
    return ts.isdigit() and hmac.compare_digest(str(body.get("sign", "")), want)


def webhook_ok(secret: str, headers: dict[str, str], raw: bytes) -> bool:
    ts = headers.get("x-ioc-timestamp", "")
    mac = hmac.new(secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("x-ioc-signature", ""), "sha256=" + mac)


@dataclass
class Receiver:
    """Captures every POST; answers with the next of ``answers`` (status, body), then 200 OK."""

    verify: Callable[[Post], bool] | None = None
    posts: list[Post] = field(default_factory=list)
    answers: list[tuple[int, bytes]] = field(default_factory=list)
    port: int = 0
    _server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                split = urllib.parse.urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                post = Post(split.path, dict(urllib.parse.parse_qsl(split.query)), headers, raw)
                post.verified = receiver.verify(post) if receiver.verify else None
                receiver.posts.append(post)
                status, body = receiver.answers.pop(0) if receiver.answers else (200, b'{"errcode":0}')
                if post.verified is False:  # what the robots answer to a wrong signature
                    status, body = 200, b'{"errcode":310000,"errmsg":"sign not match"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "mail": mail})
        return "250 OK"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), to be trusted as its own CA by the client."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "mail.crt", directory / "mail.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class MailServer:
    """aiosmtpd on a free loopback port; ``messages`` holds what it received. ``tls``:
    ``starttls`` (required before mail), ``ssl`` (implicit TLS) or None, with ``cert``."""

    def __init__(self, tls: str | None = None, cert: tuple[Path, Path] | None = None) -> None:
        self.box = _Mailbox()
        self.port = free_port()
        context = None
        if tls is not None and cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*cert)
        if tls == "ssl":
            self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port, ssl_context=context)
        elif tls == "starttls":
            self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port, tls_context=context,
                                         require_starttls=True)
        else:
            self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Any]:
        return self.box.messages

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
