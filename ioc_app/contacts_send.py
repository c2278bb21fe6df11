"""Sending one message to one contact point: each channel's payload, its signature, and
what counts as delivered.

Group robots answer HTTP 200 even when they refuse a message (a wrong signature, a
keyword filter, a rate limit), with the reason in the body's ``errcode``/``code``: that is a
failure here, retried and shown like a refused connection. Every call is bounded by the
contact point's ``timeout_s``. Errors say what went wrong without the URL (robot URLs carry
their access keys).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from typing import Any

from ioc_app.contacts import Contact
from ioc_app.contacts_text import Message

USER_AGENT = "IOC-alerts/1"


class DeliveryError(RuntimeError):
    """The contact point did not take the message; the text says why (no secrets in it)."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot signature: base64(HMAC-SHA256(key=secret, "timestamp\\nsecret"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu bot signature: base64(HMAC-SHA256(key="timestamp\\nsecret", empty message))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_sign(secret: str, timestamp_s: int, body: bytes) -> str:
    """The generic webhook's ``X-IOC-Signature``: hex HMAC-SHA256 of "timestamp.body"."""
    signed = f"{timestamp_s}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def payload(contact: Contact, message: Message, entries: list[dict[str, Any]],
            now_s: float | None = None) -> tuple[str, bytes, dict[str, str]]:
    """The URL, JSON body and headers of a robot or webhook message."""
    now_s = time.time() if now_s is None else now_s
    url, headers = contact.url, {"Content-Type": "application/json; charset=utf-8", **contact.headers}
    markdown = contact.format == "markdown"
    body: dict[str, Any]
    if contact.kind == "wecom":
        body = ({"msgtype": "markdown", "markdown": {"content": message.markdown}} if markdown
                else {"msgtype": "text", "text": {"content": message.text}})
    elif contact.kind == "dingtalk":
        body = ({"msgtype": "markdown", "markdown": {"title": message.subject, "text": message.markdown}}
                if markdown else {"msgtype": "text", "text": {"content": message.text}})
        if contact.secret:
            ts = int(now_s * 1000)
            query = urllib.parse.urlencode({"timestamp": ts, "sign": dingtalk_sign(contact.secret, ts)})
            url += ("&" if "?" in url else "?") + query
    elif contact.kind == "feishu":
        body = {"msg_type": "text", "content": {"text": message.text}}
        if contact.secret:
            ts = int(now_s)
            body = {"timestamp": str(ts), "sign": feishu_sign(contact.secret, ts), **body}
    else:  # the generic webhook: the message and the alerts as data
        body = {"subject": message.subject, "text": message.text, "markdown": message.markdown,
                "changes": [{"status": e["status"], "at": e.get("at"), **e["alert"]} for e in entries]}
    raw = json.dumps(body, ensure_ascii=False).encode()
    if contact.kind == "webhook" and contact.secret:
        ts = int(now_s)
        headers["X-IOC-Timestamp"] = str(ts)
        headers["X-IOC-Signature"] = webhook_sign(contact.secret, ts, raw)
    return url, raw, headers


def _refused(kind: str, answer: bytes) -> str | None:
    """The robot's own refusal in a 200 answer (None when it took the message)."""
    if kind == "webhook":
        return None
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    code = data.get("errcode", data.get("code", data.get("StatusCode", 0)))
    if code in (0, None, "0"):
        return None
    why = str(data.get("errmsg") or data.get("msg") or "")[:160]
    return f"the robot refused the message: code {code} {why}"


def send(contact: Contact, message: Message, entries: list[dict[str, Any]]) -> None:
    """Deliver ``message``; returns when the contact point took it, else raises DeliveryError."""
    if contact.kind == "email":
        return _mail(contact, message)
    url, body, headers = payload(contact, message, entries)
    request = urllib.request.Request(url, data=body, headers={"User-Agent": USER_AGENT, **headers},
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=contact.timeout_s) as answer:
            refusal = _refused(contact.kind, answer.read(65536))
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} {exc.reason}"[:200]) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"cannot reach the contact point: {type(reason).__name__}: "
                            f"{reason}"[:200]) from None
    if refusal:
        raise DeliveryError(refusal)
    return None


def _mail(contact: Contact, message: Message) -> None:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = contact.sender
    mail["To"] = ", ".join(contact.to)
    mail.set_content(message.text)
    # the server's certificate is always verified (against ca_file when given)
    context = ssl.create_default_context(cafile=contact.ca_file or None)
    try:
        smtp: smtplib.SMTP
        if contact.security == "ssl":
            smtp = smtplib.SMTP_SSL(contact.host, contact.port, timeout=contact.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(contact.host, contact.port, timeout=contact.timeout_s)
        with smtp:
            if contact.security == "starttls":
                smtp.starttls(context=context)
            if contact.username:
                smtp.login(contact.username, contact.password)
            smtp.send_message(mail)
    except smtplib.SMTPResponseException as exc:  # the code and the server's words, no addresses
        said = exc.smtp_error
        words = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        raise DeliveryError(f"the mail server refused: {exc.smtp_code} {words[:160]}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"the mail server refused all {len(exc.recipients)} recipients; check "
                            f"the contact point's 'to'") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"the mail server refused: {type(exc).__name__}") from None
    except (OSError, TimeoutError) as exc:
        raise DeliveryError(f"cannot reach the mail server: {type(exc).__name__}: {str(exc)[:160]}") from None
