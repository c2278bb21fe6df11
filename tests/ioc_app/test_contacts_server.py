"""The running product delivers: ``python -m ioc_app run`` with a contacts file sends a
raised alert to a local webhook receiver from its own scheduler job, and ``/metrics`` counts
the delivery. (Condition-based waits with generous limits; nothing is timed.)"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from tests.conftest import Server, free_port, product_env
from tests.ioc_app.contacts_receivers import Receiver, webhook_ok

RULES = """
[[rule]]
id = "stream_stale"
kind = "stale"
severity = "critical"
domain = "pipeline"
title_zh = "数据流 {key} 中断"
title_en = "Data stream {key} stalled"
streams = ["gate.pass"]
"""


def wait_for(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise TimeoutError(what)


def test_the_server_sends_a_raised_alert_and_counts_it(tmp_path: Path) -> None:
    receiver = Receiver(verify=lambda post: webhook_ok("k3y", post.headers, post.body)).start()
    (tmp_path / "rules.toml").write_text(RULES, encoding="utf-8")
    (tmp_path / "contacts.toml").write_text(
        f'[defaults]\ncontacts = ["hook"]\ngroup_s = 0\n\n[[contact]]\nname = "hook"\nkind = "webhook"\n'
        f'url = "{receiver.url}/ioc"\nsecret_env = "HOOK_SECRET"\n', encoding="utf-8")
    env = product_env(tmp_path, IOC_ALERTS=str(tmp_path / "rules.toml"),
                      IOC_CONTACTS=str(tmp_path / "contacts.toml"), HOOK_SECRET="k3y",
                      IOC_PUBLIC_URL="https://ioc.example.edu.cn")
    server = Server(env, free_port())
    try:
        server.wait_ready(timeout=120)
        wait_for(lambda: receiver.posts, 90, f"no delivery: {server.output()}")
        post = receiver.posts[0]
        assert post.verified is True
        (change,) = post.json["changes"]
        assert (change["status"], change["id"]) == ("firing", "stream_stale:gate.pass")
        assert "https://ioc.example.edu.cn/health" in post.json["text"]

        def counted() -> bool:
            with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
                return 'ioc_alert_deliveries_total{contact="hook",result="sent"} 1.0' in r.read().decode()

        wait_for(counted, 30, "the delivery is not counted in /metrics")
        assert "k3y" not in server.output() and "event=contacts.sent contact=hook" in server.output()
    finally:
        server.stop()
        receiver.stop()
