"""``contacts check`` and ``contacts test`` as a site runs them: the real command line in a
child process, a local receiver for the test message, one-line ``ioc:`` errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import product_env, run_cli
from tests.ioc_app.contacts_receivers import Receiver, dingtalk_ok


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver(verify=lambda post: dingtalk_ok("S3CRET", post.query)).start()
    yield r
    r.stop()


def contacts_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "contacts.toml"
    path.write_text(f'[defaults]\ncontacts = ["ding"]\nquiet = "22:00-07:00"\n\n[[contact]]\n'
                    f'name = "ding"\nkind = "dingtalk"\nurl = "{url}/robot/send?access_token=T"\n'
                    f'secret_env = "DING_SECRET"\n\n[[route]]\n'
                    f'severity = ["critical"]\ncontacts = ["ding"]\n',
                    encoding="utf-8")
    return path


def test_check_lists_contact_points_and_routes(tmp_path: Path, receiver: Receiver) -> None:
    env = product_env(tmp_path, IOC_CONTACTS=str(contacts_file(tmp_path, receiver.url)), DING_SECRET="S3CRET")
    done = run_cli(env, "contacts", "check")
    assert done.returncode == 0, done.stderr
    assert "contact ding: dingtalk, zh, quiet 22:00-07:00" in done.stdout
    assert "route 1: severity critical domain * rules * -> ding" in done.stdout
    assert "S3CRET" not in done.stdout + done.stderr


def test_a_missing_secret_is_one_line_saying_what_to_set(tmp_path: Path, receiver: Receiver) -> None:
    env = product_env(tmp_path, IOC_CONTACTS=str(contacts_file(tmp_path, receiver.url)))
    done = run_cli(env, "contacts", "check")
    assert done.returncode == 2
    assert done.stderr.startswith("ioc: ") and "DING_SECRET, which is not set" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_test_message_is_sent_signed(tmp_path: Path, receiver: Receiver) -> None:
    env = product_env(tmp_path, IOC_CONTACTS=str(contacts_file(tmp_path, receiver.url)), DING_SECRET="S3CRET")
    done = run_cli(env, "contacts", "test", "ding")
    assert done.returncode == 0, done.stderr
    (post,) = receiver.posts
    assert post.verified is True and "测试消息：通知渠道 ding 工作正常" in post.json["markdown"]["text"]
    wrong = run_cli({**env, "DING_SECRET": "other"}, "contacts", "test", "ding")
    assert wrong.returncode == 1 and wrong.stderr.startswith("ioc: contact point ding: the robot refused")
    unknown = run_cli(env, "contacts", "test", "nobody")
    assert unknown.returncode == 2 and "the contact points are ding" in unknown.stderr
