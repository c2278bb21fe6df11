"""The contacts file: what it accepts, what it refuses (naming the entry and the fix),
routing by severity, domain and rule, and quiet hours in the site's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ioc_app.contacts import ContactsError, load_contacts
from ioc_app.settings import SettingsError, load_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")

FILE = """
[defaults]
contacts = ["duty-mail"]
repeat_min = 60
group_s = 20
quiet = "22:00-07:00"

[[contact]]
name = "net-ding"
kind = "dingtalk"
url_env = "NET_DING_URL"
secret_env = "NET_DING_SECRET"

[[contact]]
name = "ops-wecom"
kind = "wecom"
url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
format = "text"
quiet = ""

[[contact]]
name = "duty-mail"
kind = "email"
host = "smtp.example.edu.cn"
port = 465
security = "ssl"
sender = "ioc@example.edu.cn"
to = ["duty@example.edu.cn"]
lang = "en"

[[route]]
severity = ["critical"]
contacts = ["ops-wecom", "net-ding"]

[[route]]
domain = ["network"]
contacts = ["net-ding"]
"""
ENV = {"NET_DING_URL": "https://oapi.dingtalk.com/robot/send?access_token=t", "NET_DING_SECRET": "SEC1"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contacts.toml"
    path.write_text(text, encoding="utf-8")
    return path


def alert(aid: str, severity: str, domain: str) -> dict[str, str]:
    return {"id": aid, "severity": severity, "domain": domain}


def test_a_file_is_read_with_secrets_from_the_environment(tmp_path: Path) -> None:
    c = load_contacts(write(tmp_path, FILE), "https://ioc.example.edu.cn", environ=ENV)
    assert list(c.contacts) == ["net-ding", "ops-wecom", "duty-mail"]
    ding = c.contacts["net-ding"]
    assert ding.url == ENV["NET_DING_URL"] and ding.secret == "SEC1" and ding.format == "markdown"
    assert c.contacts["duty-mail"].lang == "en" and c.contacts["duty-mail"].security == "ssl"
    assert c.repeat_s == 3600 and c.group_s == 20 and c.public_url == "https://ioc.example.edu.cn"
    assert ding.quiet is not None and c.contacts["ops-wecom"].quiet is None  # "" turns quiet off


def test_every_matching_route_delivers_and_the_default_takes_the_rest(tmp_path: Path) -> None:
    c = load_contacts(write(tmp_path, FILE), environ=ENV)
    assert c.route(alert("link_utilization:CERNET", "critical", "network")) == ("ops-wecom", "net-ding")
    assert c.route(alert("link_utilization:CERNET", "warning", "network")) == ("net-ding",)
    assert c.route(alert("service_backlog", "critical", "service")) == ("ops-wecom", "net-ding")
    assert c.route(alert("stale:gate.pass", "warning", "pipeline")) == ("duty-mail",)


def test_a_route_may_name_rules(tmp_path: Path) -> None:
    text = FILE + '\n[[route]]\nrules = ["stale"]\nseverity = ["warning"]\ncontacts = ["ops-wecom"]\n'
    c = load_contacts(write(tmp_path, text), environ=ENV)
    assert c.route(alert("stale:gate.pass", "warning", "pipeline")) == ("ops-wecom",)
    assert c.route(alert("stale:gate.pass", "info", "pipeline")) == ("duty-mail",)


def test_quiet_hours_pass_midnight_in_the_site_zone(tmp_path: Path) -> None:
    c = load_contacts(write(tmp_path, FILE), environ=ENV)
    ding = c.contacts["net-ding"]
    late = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    day = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
    assert ding.quiet_now(late, SHANGHAI, "warning")
    assert not ding.quiet_now(late, SHANGHAI, "critical")  # critical breaks through by default
    assert not ding.quiet_now(day, SHANGHAI, "warning")
    assert ding.quiet is not None
    assert ding.quiet.ends_after(late, SHANGHAI) == datetime(2026, 3, 3, 7, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("change", "message"), [
    (('kind = "dingtalk"', 'kind = "sms"'), "kind = 'sms'; use one of wecom, dingtalk"),
    (('secret_env = "NET_DING_SECRET"', 'secret_env = "MISSING_SECRET"'), "MISSING_SECRET, which is not set"),
    (('secret_env = "NET_DING_SECRET"', 'secret_env = "IOC_DING"'), "not starting with IOC_"),
    (('contacts = ["net-ding"]', 'contacts = ["nobody"]'), "no contact point is named 'nobody'"),
    (('quiet = "22:00-07:00"', 'quiet = "late"'), 'write local hours as "22:00-07:00"'),
    (('port = 465', 'port = 465\ncolour = "red"'), "unknown key 'colour'"),
    (('to = ["duty@example.edu.cn"]', 'to = []'), "to must list the recipients"),
    (('severity = ["critical"]', 'severity = ["urgent"]'), "'urgent' is not one of critical, warning, info"),
    (('name = "ops-wecom"', 'name = "net-ding"'), "names must be unique"),
    (('group_s = 20', 'group_s = 20\nresolved = "yes"'), "resolved must be true or false"),
    (('group_s = 20', 'group_s = -1'), "group_s must be a number from 0 to 3600"),
])
def test_mistakes_are_refused_naming_the_entry_and_the_fix(tmp_path: Path, change: tuple[str, str],
                                                           message: str) -> None:
    assert change[0] in FILE
    with pytest.raises(ContactsError, match=message.replace("(", r"\(")) as exc:
        load_contacts(write(tmp_path, FILE.replace(change[0], change[1], 1)), environ=ENV)
    assert str(exc.value).startswith(str(tmp_path / "contacts.toml"))


def test_no_file_means_no_contact_points() -> None:
    c = load_contacts("")
    assert c.contacts == {} and c.route(alert("x", "critical", "gate")) == ()


def test_the_setting_names_a_file_that_exists(tmp_path: Path) -> None:
    assert load_settings({}, dotenv=None).contacts == ""
    path = write(tmp_path, FILE)
    assert load_settings({"IOC_CONTACTS": str(path)}, dotenv=None).contacts == str(path)
    with pytest.raises(SettingsError, match=r"IOC_CONTACTS=.*no such file.*leave it empty"):
        load_settings({"IOC_CONTACTS": str(tmp_path / "nope.toml")}, dotenv=None)
