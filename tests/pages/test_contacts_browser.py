"""/health's notifications in real headless Chromium on the real server: the alert a stale
stream raises is delivered to a local receiver, and an operator acknowledges it on the page —
the answer, the acknowledgement's row (who) and nothing else asked of any other host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TESTER, Server, product_env
from tests.ioc_app.contacts_receivers import Receiver
from tests.pages.browsing import Watched, serving

pytestmark = pytest.mark.browser

RULES = """
[[rule]]
id = "stream_stale"
kind = "stale"
severity = "warning"
domain = "pipeline"
title_zh = "数据流 {key} 中断"
title_en = "Data stream {key} stalled"
streams = ["gate.pass"]
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Receiver]]:
    tmp: Path = tmp_path_factory.mktemp("contacts-web")
    receiver = Receiver().start()
    (tmp / "rules.toml").write_text(RULES, encoding="utf-8")
    (tmp / "contacts.toml").write_text(f'[defaults]\ncontacts = ["hook"]\ngroup_s = 0\n\n[[contact]]\n'
                                       f'name = "hook"\nkind = "webhook"\nurl = "{receiver.url}/ioc"\n',
                                       encoding="utf-8")
    env = product_env(tmp, IOC_ALERTS=str(tmp / "rules.toml"), IOC_CONTACTS=str(tmp / "contacts.toml"))
    with serving(env) as server:
        yield server, receiver
    receiver.stop()


def test_an_operator_acknowledges_an_alert_on_health(world: tuple[Server, Receiver], browser: Any) -> None:
    server, receiver = world
    w = Watched(browser, f"{server.url}/health?lang=zh", 1920, 1080)
    page = w.page
    page.locator("#alerts-ack-target").click()
    page.locator(".dash-dropdown-option").filter(has_text="stream_stale:gate.pass").first.click()
    page.locator("#alerts-ack-ack").click()
    page.wait_for_function("() => document.querySelector('#alerts-ack-result')?.textContent"
                           ".includes('已确认 stream_stale:gate.pass')", timeout=20_000)
    # the tile's table, refreshed on its own interval, shows who acknowledged it
    page.wait_for_function("() => document.querySelector('#health-notify')?.textContent"
                           f".includes('{TESTER}')", timeout=30_000)
    notify = w.text_of("#health-notify")
    assert "stream_stale:gate.pass" in notify and "已确认" in notify and "hook" in notify
    page.wait_for_function("() => document.querySelector('#health-notify')?.textContent.includes('正常')",
                           timeout=30_000)  # the alert went out: the contact point is healthy
    assert any(c["id"] == "stream_stale:gate.pass" for p in receiver.posts for c in p.json["changes"])
    w.clean(server.url + "/")
    page.close()
