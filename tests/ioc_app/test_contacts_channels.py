"""Each channel's message as its receiver gets it: the payload shape, the signature (checked
by the local receiver with its own reading of the channel's scheme), the words (Chinese by
default: the figure, the rule, since and a link to the page), and what counts as refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ioc_app.contacts import Contact
from ioc_app.contacts_send import DeliveryError, send
from ioc_app.contacts_text import render
from tests.ioc_app.contacts_receivers import (
    MailServer,
    Receiver,
    dingtalk_ok,
    feishu_ok,
    self_signed,
    webhook_ok,
)

ZONE = ZoneInfo("Asia/Shanghai")
PUBLIC = "https://ioc.example.edu.cn"
ALERT = {"id": "link_utilization:CERNET", "severity": "warning", "domain": "network",
         "title_zh": "出口链路 CERNET 利用率 95%，持续高负载",
         "title_en": "Egress link CERNET at 95% utilization",
         "since": "2026-03-02T10:02:00+08:00", "value": 0.95, "threshold": 0.9}
ENTRIES = [{"status": "firing", "alert": ALERT, "at": "2026-03-02T02:05:00+00:00"}]


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def deliver(contact: Contact, entries: list[dict[str, Any]] = ENTRIES) -> None:
    send(contact, render(entries, contact.lang, ZONE, PUBLIC), entries)


def says_it_all(text: str) -> None:
    """The figure, the rule, since (site time) and the page's link."""
    assert ALERT["title_zh"] in text and "0.95" in text and "阈值 0.9" in text
    assert "规则 link_utilization" in text and "开始于 03-02 10:02" in text
    assert "https://ioc.example.edu.cn/network" in text and "新告警" in text


def test_wecom_markdown_and_text(receiver: Receiver) -> None:
    deliver(Contact("w", "wecom", url=receiver.url + "/cgi-bin/webhook/send?key=K1"))
    deliver(Contact("w", "wecom", url=receiver.url + "/cgi-bin/webhook/send?key=K1", format="text"))
    md, text = (p.json for p in receiver.posts)
    assert receiver.posts[0].query == {"key": "K1"}
    assert md["msgtype"] == "markdown" and set(md) == {"msgtype", "markdown"}
    says_it_all(md["markdown"]["content"])
    assert text["msgtype"] == "text"
    says_it_all(text["text"]["content"])


def test_dingtalk_is_signed_as_dingtalk_checks(receiver: Receiver) -> None:
    receiver.verify = lambda post: dingtalk_ok("SECabc", post.query)
    deliver(Contact("d", "dingtalk", url=receiver.url + "/robot/send?access_token=T", secret="SECabc"))
    post = receiver.posts[0]
    assert post.verified is True and post.query["access_token"] == "T"
    assert post.json["msgtype"] == "markdown"
    says_it_all(post.json["markdown"]["text"])
    assert "1" in post.json["markdown"]["title"]
    with pytest.raises(DeliveryError, match="310000 sign not match"):  # a wrong secret: refused in a 200
        deliver(Contact("d", "dingtalk", url=receiver.url + "/robot/send?access_token=T", secret="wrong"))


def test_feishu_is_signed_in_the_body(receiver: Receiver) -> None:
    receiver.verify = lambda post: feishu_ok("fsk", post.json)
    deliver(Contact("f", "feishu", url=receiver.url + "/open-apis/bot/v2/hook/H", secret="fsk"))
    post = receiver.posts[0]
    assert post.verified is True and post.json["msg_type"] == "text"
    says_it_all(post.json["content"]["text"])
    refusal = b'{"code":19021,"msg":"sign match fail or timestamp is not within one hour"}'
    receiver.answers.append((200, refusal))
    with pytest.raises(DeliveryError, match="19021"):
        deliver(Contact("f", "feishu", url=receiver.url + "/open-apis/bot/v2/hook/H", secret="fsk"))


def test_the_webhook_carries_the_changes_and_an_hmac(receiver: Receiver) -> None:
    receiver.verify = lambda post: webhook_ok("hooksecret", post.headers, post.body)
    deliver(Contact("h", "webhook", url=receiver.url + "/ioc", secret="hooksecret", lang="en",
                    headers={"X-Site": "demo"}))
    post = receiver.posts[0]
    assert post.verified is True and post.headers["x-site"] == "demo"
    body = post.json
    assert [(c["status"], c["id"], c["value"]) for c in body["changes"]] == [
        ("firing", "link_utilization:CERNET", 0.95)]
    assert "Egress link CERNET" in body["text"] and "rule link_utilization" in body["text"]
    assert "since 03-02 10:02" in body["text"] and body["subject"].startswith("[IOC alert] New: 1")
    # a body altered on the way fails the receiver's check
    assert not webhook_ok("hooksecret", post.headers, post.body.replace(b"0.95", b"0.10"))


def test_an_http_error_is_a_failure_without_the_url(receiver: Receiver) -> None:
    receiver.answers.append((500, b"{}"))
    with pytest.raises(DeliveryError) as exc:
        deliver(Contact("w", "wecom", url=receiver.url + "/send?key=SECRETKEY"))
    assert "HTTP 500" in str(exc.value) and "SECRETKEY" not in str(exc.value)
    port = receiver.port
    receiver.stop()
    with pytest.raises(DeliveryError, match="cannot reach") as exc:
        deliver(Contact("w", "wecom", url=f"http://127.0.0.1:{port}/send?key=SECRETKEY", timeout_s=2))
    assert "SECRETKEY" not in str(exc.value)
    receiver.start()  # for the fixture's stop


def test_mail_through_a_local_smtp_server() -> None:
    server = MailServer().start()
    try:
        resolved = {"status": "resolved", "alert": ALERT, "at": "2026-03-02T02:35:00+00:00"}
        deliver(Contact("m", "email", host="127.0.0.1", port=server.port, security="none",
                        sender="ioc@example.edu.cn", to=("duty@example.edu.cn", "noc@example.edu.cn")),
                [*ENTRIES, resolved])
        (got,) = server.messages
        assert got["to"] == ["duty@example.edu.cn", "noc@example.edu.cn"]
        mail = got["mail"]
        assert mail["Subject"] == "【IOC 告警】新告警 1 条，已恢复 1 条"
        body = mail.get_content()
        says_it_all(body)
        assert "已恢复" in body and "恢复于 03-02 10:35" in body
    finally:
        server.stop()
    with pytest.raises(DeliveryError, match="cannot reach the mail server"):
        deliver(Contact("m", "email", host="127.0.0.1", port=server.port, security="none", timeout_s=2,
                        sender="ioc@example.edu.cn", to=("duty@example.edu.cn",)))


def test_the_message_in_english_when_configured() -> None:
    msg = render(ENTRIES, "en", ZONE, PUBLIC)
    assert msg.subject == "[IOC alert] New: 1 Egress link CERNET at 95% utilization"
    assert "[Warning]" in msg.text and "value 0.95" in msg.text and "出口" not in msg.text
    assert datetime(2026, 3, 2, tzinfo=UTC)  # the zone, not the server's clock, places since


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_mail_over_tls_checks_the_servers_certificate(tmp_path: Path, security: str) -> None:
    cert = self_signed(tmp_path)
    server = MailServer(security, cert).start()
    mail = {"host": "127.0.0.1", "port": server.port, "security": security, "sender": "ioc@example.edu.cn",
            "to": ("duty@example.edu.cn",), "timeout_s": 5}
    try:
        deliver(Contact("m", "email", ca_file=str(cert[0]), **mail))  # type: ignore[arg-type]
        assert len(server.messages) == 1
        says_it_all(server.messages[0]["mail"].get_content())
        with pytest.raises(DeliveryError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            deliver(Contact("m", "email", **mail))  # type: ignore[arg-type]  # not trusted: refused
        assert len(server.messages) == 1
    finally:
        server.stop()
