"""The deployment examples in deploy/ are not run here (no Docker, no ClickHouse server, no
systemd): these checks catch what would stop them or make them wrong before anyone runs them —
files that do not parse, a cluster name the migrations would not find, replicas that would
share a Keeper path, settings the product would refuse, processes that differ from the
Procfile. Each check of the cluster example is also shown to notice a broken copy."""

from __future__ import annotations

import configparser
import copy
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from ioc_app.settings import SettingsError, load_settings, read_dotenv

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "cluster"


def _xml(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def _service_files(service: dict[str, Any]) -> dict[str, Path]:
    """Container path → file of the example, for the files a service mounts."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            out[target] = EXAMPLE / source
    return out


def load_example() -> dict[str, Any]:
    compose = yaml.safe_load((EXAMPLE / "compose.yaml").read_text())
    return {
        "compose": compose,
        "env": read_dotenv(EXAMPLE / "ioc.env"),
        "cluster": _xml(EXAMPLE / "clickhouse" / "config.d" / "cluster.xml"),
        "users": _xml(EXAMPLE / "clickhouse" / "users.d" / "ioc.xml"),
        "mounted": {name: {t: _xml(p) for t, p in _service_files(s).items() if p.suffix == ".xml"}
                    for name, s in compose["services"].items()},
    }


def _process_env(example: dict[str, Any], service: str) -> dict[str, str]:
    return {**example["env"], **example["compose"]["services"][service].get("environment", {})}


def problems(example: dict[str, Any]) -> list[str]:
    """Everything wrong with the example, as sentences."""
    out: list[str] = []
    services = example["compose"]["services"]
    remote = example["cluster"].find("remote_servers")
    clusters = [c.tag for c in remote] if remote is not None else []
    wanted = example["env"].get("IOC_CLICKHOUSE_CLUSTER", "")
    if clusters != [wanted]:
        out.append(f"remote_servers defines {clusters}, IOC_CLICKHOUSE_CLUSTER is {wanted!r}")
        return out
    shards = remote.findall(f"{wanted}/shard")  # type: ignore[union-attr]
    layout = {i + 1: [r.findtext("host") for r in s.findall("replica")] for i, s in enumerate(shards)}
    if sorted(len(r) for r in layout.values()) != [2, 2]:
        out.append(f"expected 2 shards of 2 replicas, found {layout}")
    for shard in shards:
        if shard.findtext("internal_replication") != "true":
            out.append("internal_replication must be true over Replicated tables")
    password = example["users"].findtext("users/ioc/password")
    for replica in remote.iter("replica"):
        if replica.findtext("password") != password:
            out.append(f"remote_servers' password for {replica.findtext('host')} is not the ioc user's")
    macros: dict[str, tuple[str, str]] = {}
    for host, files in example["mounted"].items():
        for target, root in files.items():
            if target.endswith("/macros.xml"):
                macros[host] = (root.findtext("macros/shard") or "", root.findtext("macros/replica") or "")
    for shard, hosts in layout.items():
        for host in hosts:
            if host not in services:
                out.append(f"remote_servers names {host}, not a service of compose.yaml")
            elif host not in macros:
                out.append(f"{host} mounts no macros file")
            elif int(macros[host][0]) != shard:
                out.append(f"{host}'s shard macro is {macros[host][0]}, "
                           f"remote_servers puts it in shard {shard}")
    pairs = list(macros.values())
    if len(set(pairs)) != len(pairs) or len({r for _, r in pairs}) != len(pairs):
        out.append(f"macros must name each replica once across the cluster: {sorted(pairs)}")
    keepers = {host: root for host, files in example["mounted"].items() for root in files.values()
               if root.find("keeper_server") is not None}
    ids = [k.findtext("keeper_server/server_id") for k in keepers.values()]
    if len(set(ids)) != len(ids) or len(ids) != 3:
        out.append(f"three Keeper nodes with distinct server_id expected, found {ids}")
    for host, root in keepers.items():
        raft = {s.findtext("hostname"): s.findtext("id") for s in root.iter("server")}
        if raft.get(host) != root.findtext("keeper_server/server_id"):
            out.append(f"{host}'s server_id is not its id in raft_configuration {raft}")
    port = {k.findtext("keeper_server/tcp_port") for k in keepers.values()}
    nodes = {(n.findtext("host"), n.findtext("port")) for n in example["cluster"].iter("node")}
    if nodes != {(h, p) for h in keepers for p in port}:
        out.append(f"the servers' <zookeeper> nodes {sorted(nodes)} are not the Keeper services")
    out += _processes(example, macros)
    return out


def _processes(example: dict[str, Any], macros: dict[str, tuple[str, str]]) -> list[str]:
    out: list[str] = []
    services = example["compose"]["services"]
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, command = line.split(":", 1)
        if name not in services:
            out.append(f"the Procfile's {name} process is not a service")
            continue
        env = _process_env(example, name)

        def value(m: re.Match[str], env: dict[str, str] = env) -> str:
            return env.get(m.group(1), m.group(2))
        expected = re.sub(r"\$\{(\w+):-([^}]*)\}", value, command).split()
        if services[name]["command"] != expected:
            out.append(f"{name} runs {services[name]['command']}, the Procfile {expected}")
    for name, service in services.items():
        if "env_file" not in service:
            continue
        env = _process_env(example, name)
        try:
            settings = load_settings(env, dotenv=None)
        except SettingsError as exc:
            out.append(f"{name}: IOC refuses its settings: {exc}")
            continue
        store = urlsplit(settings.clickhouse_url)
        if store.hostname not in macros or store.password != example["users"].findtext("users/ioc/password"):
            out.append(f"{name}: IOC_CLICKHOUSE_URL must name a ClickHouse service as user ioc")
        if urlsplit(settings.redis_url).hostname not in services:
            out.append(f"{name}: IOC_REDIS_URL names no service")
    redis = " ".join(services["redis"]["command"])
    for option in ("--appendonly yes", "--appendfsync always", "--maxmemory-policy noeviction"):
        if option not in redis:
            out.append(f"redis runs without {option}: IOC refuses it (IOC_REDIS_DURABILITY=strict)")
    return out


@pytest.fixture()
def example() -> dict[str, Any]:
    return load_example()


def test_the_cluster_example_is_consistent(example: dict[str, Any]) -> None:
    assert problems(example) == []


def test_every_file_of_the_example_parses() -> None:
    files = sorted(EXAMPLE.rglob("*.xml"))
    assert len(files) == 9
    for path in files:
        _xml(path)
    yaml.safe_load((EXAMPLE / "compose.yaml").read_text())


def _break(example: dict[str, Any], how: str) -> dict[str, Any]:
    broken = copy.deepcopy(example)
    services = broken["compose"]["services"]
    if how == "cluster name":
        broken["env"]["IOC_CLICKHOUSE_CLUSTER"] = "campus"
    elif how == "shared replica":
        broken["mounted"]["ch-s1-r2"] = broken["mounted"]["ch-s1-r1"]
    elif how == "wrong shard":
        broken["mounted"]["ch-s2-r1"] = broken["mounted"]["ch-s1-r1"]
    elif how == "keeper id":
        broken["mounted"]["keeper-2"] = broken["mounted"]["keeper-1"]
    elif how == "unknown setting":
        broken["env"]["IOC_CLICKHOUSE_CLUSTR"] = "ioc_cluster"
    elif how == "process":
        services["ingest"]["command"] = ["python", "-m", "ioc_app", "run"]
    elif how == "redis":
        services["redis"]["command"] = ["redis-server"]
    return broken


BROKEN = {"cluster name": "IOC_CLICKHOUSE_CLUSTER is 'campus'", "shared replica": "each replica once",
          "wrong shard": "puts it in shard 2", "keeper id": "distinct server_id",
          "unknown setting": "unknown setting IOC_CLICKHOUSE_CLUSTR", "process": "the Procfile",
          "redis": "--appendfsync always"}


@pytest.mark.parametrize("how", list(BROKEN))
def test_a_broken_example_is_noticed(example: dict[str, Any], how: str) -> None:
    found = problems(_break(example, how))
    assert any(BROKEN[how] in p for p in found), found


def _units() -> dict[str, configparser.ConfigParser]:
    units = {}
    for path in sorted((ROOT / "deploy" / "systemd").iterdir()):
        unit = configparser.ConfigParser(strict=True, interpolation=None)
        unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys keep their case
        unit.read(path)
        units[path.name] = unit
    return units


def test_the_systemd_units_run_the_procfile() -> None:
    """The scaled mode's units run exactly the Procfile's commands (with the virtual
    environment's path), each as the ioc user with the one settings file, after migrate."""
    units = _units()
    commands = {}
    for name, unit in units.items():
        if not unit.has_section("Service"):
            continue
        service = unit["Service"]
        assert service["User"] == "ioc" and service["EnvironmentFile"] == "/etc/ioc/ioc.env", name
        assert service["UMask"] == "0077", name
        command = service["ExecStart"].replace("/opt/ioc/.venv/bin/", "").replace("$$", "$")
        commands[name] = re.sub(r"^/bin/sh -c 'exec (.*)'$", r"\1", command)
    for line in (ROOT / "Procfile").read_text().splitlines():
        process, command = (part.strip() for part in line.split(":", 1))
        unit = next(n for n in commands if n.startswith(f"ioc-{process}"))
        assert commands[unit] == command, unit
        assert "ioc-migrate.service" in units[unit]["Unit"]["Requires"], unit
    assert commands["ioc-migrate.service"] == "python -m ioc_app migrate"
    assert commands["ioc.service"] == "python -m ioc_app run --migrate"
