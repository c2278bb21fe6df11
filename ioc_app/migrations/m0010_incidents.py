"""When each security incident was first seen.

The live security figures count incidents first seen within the last 30 local days, with
their latest status. Knowing that an incident's first finding is older than the window used
to mean reading its findings back to the start of the retention (400 days) on every tick;
this table keeps each incident's first finding, folded with ``min`` (idempotent, so the
backfill may run again), so a tick picks the window's incidents from it and reads raw
findings of the window only.

On a cluster the view writes the shard-local table; the metric folds with ``GROUP BY
incident_key`` and ``min``, which is right whichever shards hold an incident's rows.
"""

from __future__ import annotations

from ioc_app.migrations.m0003_network import NETWORK_SECURITY
from ioc_app.schema import Dialect

VERSION = 10
NAME = "incidents"
TS = "DateTime64(3, 'UTC')"
SELECT = "SELECT incident_key, min(ts) AS first_seen\nFROM {source}\nGROUP BY incident_key"


def statements(d: Dialect) -> list[str]:
    name = "network_incident_first"
    out = d.table(
        name,
        [("incident_key", "String"), ("first_seen", f"SimpleAggregateFunction(min, {TS})")],
        engine="AggregatingMergeTree",
        order_by="incident_key",
        ttl=f"toDateTime(first_seen) + INTERVAL {NETWORK_SECURITY.retention_days} DAY",
        shard_key="cityHash64(incident_key)",
    )
    out.append(d.materialized_view(name, NETWORK_SECURITY.table, SELECT))
    # findings stored before this migration
    source = f"{d.db}.{NETWORK_SECURITY.table}"
    out.append(f"INSERT INTO {d.db}.{name}\n" + SELECT.replace("{source}", source))
    return out
