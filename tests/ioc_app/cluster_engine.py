"""Creates the cluster schema in an embedded engine that knows the cluster (run in a process
of its own: an engine's configuration counts only for the first engine a process opens).

``python -m tests.ioc_app.cluster_engine <engine dir> <config file> <cluster> [<broken>]``
loads ``remote_servers`` from the config file (the deploy example's own ``cluster.xml``),
then runs every statement the migrations send to that cluster with only what needs Keeper
replaced (no ``ON CLUSTER``, ``Replicated*`` engines without their Keeper path), so the
``Distributed`` tables are created by ClickHouse against the cluster's definition: its name,
the tables they point at, the sharding key's type. ``INSERT … SELECT`` statements are left
out: reading a ``Distributed`` table needs the shards' servers. Prints JSON: the problems
(statements the engine refused) and how many Distributed tables it created.
"""

from __future__ import annotations

import json
import sys

from ioc_app.schema import Dialect
from ioc_app.storage import Store, StoreQueryError, cluster_name
from tests.ioc_app.cluster_schema import declustered, emitted

#: ways to break the statements, to show the engine notices
BROKEN = {
    "nullable sharding key": ("cityHash64(ifNull(event_id, ''), link_id, ts)", "cityHash64(event_id)"),
    "unknown cluster": ("Distributed(", "Distributed(no_such_cluster_"),
}


def main(engine: str, config: str, cluster: str, broken: str = "") -> dict[str, object]:
    store = Store(f"chdb://{engine}", database="ioc", engine_options={"config-file": config})
    problems: list[str] = []
    for label, sql in emitted(Dialect("ioc", cluster)):
        if sql.startswith("INSERT"):
            continue
        if broken:
            old, new = BROKEN[broken]
            sql = sql.replace(old, new, 1)
        plain, _ = declustered(sql, cluster_name(cluster), keep_distributed=True)
        try:
            store.command(plain)
        except StoreQueryError as exc:
            problems.append(f"{label}: {exc.server_message}")
    made = store.rows("SELECT count() FROM system.tables WHERE database = 'ioc' AND engine = 'Distributed'")
    return {"problems": problems, "distributed": int(made[0][0])}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
