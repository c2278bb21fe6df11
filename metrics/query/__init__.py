"""Analyst queries (``GET /api/v1/query/<domain>``): aggregate series over the rollups.

Analysts ask free-form questions ("denials per gate per hour last week"), so this package is
the one place where request parameters meet SQL. Everything a request may name comes from a
declarative whitelist per domain: measures (an aggregate over rollup columns), dimensions
(rollup columns to group or filter by) and grains. A request is parsed into a frozen
:class:`QuerySpec` — or refused with a :class:`QueryError` whose message names the allowed
values — and :func:`run` turns the spec into parameterised SQL: identifiers come only from
the whitelist, every value travels as a ``{name:Type}`` parameter.

Time:

- ``minute`` reads the ``_1m`` rollups (kept 63 days, fewer dimensions), ``hour`` and ``day``
  the ``_1h`` rollups — a source's narrow hour rollup (``Source.narrow``) when it keeps every
  dimension the question splits or filters by: the same figures from a fraction of the rows.
  ``day`` is the local date in the site's zone (``toDate(hour, tz)``), so the hour rollups
  answer days in any zone (a day rollup could only be one zone's days).
- ``from`` is rounded down to the start of its bucket and ``to`` up to the end of its bucket
  (``to`` is exclusive), so the answer covers whole buckets and says which ones; a ``to``
  later than the current bucket is cut there.
- Hours are UTC hours shown in local time: in a zone whose offset is not a whole number of
  hours (Asia/Kolkata +05:30) an hour bucket starts at :30 local, and a day holds the hours
  that *start* on that local date, so up to the offset's odd minutes (30 or 45) near midnight
  count in the neighbouring day. Whole-hour zones (China, and every DST zone whose offset
  changes by whole hours) are exact.

Empty buckets are filled: every bucket of the range appears for every group seen in the
range, counts as 0 and means, maxima and ratios as null (no sample is not a zero sample). A
time series with gaps would mislead a chart into drawing straight lines over hours nobody
passed a gate.

The whitelist is declared by each domain (``metrics/<name>.py``, ``QUERY``); this package
reads it from the registry. ``spec`` validates a request, ``sql`` runs it, ``compare`` adds a
comparison period (``compare=previous|last_year``), ``whitelist`` describes what may be
asked; the names callers use are importable from here. A domain of latest states
(``enrollment``: grains ``day`` and ``season``) answers its questions itself
(``Queryable.answers``, ``metrics/enrollment_query.py``) and lines up its comparisons by
season (``Queryable.compare``).
"""

from __future__ import annotations

from metrics.query.compare import comparison_range, run_compared
from metrics.query.spec import (
    COMPARE_KINDS,
    DEFAULT_GRAIN,
    DEFAULT_SPAN,
    DOMAINS,
    GRAINS,
    MAX_ROWS,
    MAX_SPAN,
    MAX_VALUE_LEN,
    MINUTE_KEPT,
    PARAMETERS,
    Dimension,
    Domain,
    Grain,
    Kind,
    Measure,
    QueryError,
    QuerySpec,
    Source,
    ceil_bucket,
    floor_bucket,
    next_bucket,
    parse_spec,
    parse_time,
)
from metrics.query.sql import _source_sql, buckets, run, small_cells_apply
from metrics.query.whitelist import describe, grain_limits, whitelist_markdown

__all__ = [
    "DEFAULT_GRAIN", "DEFAULT_SPAN", "DOMAINS", "GRAINS", "MAX_ROWS", "MAX_SPAN", "MAX_VALUE_LEN",
    "MINUTE_KEPT", "PARAMETERS", "Dimension", "Domain", "Grain", "Kind", "Measure", "QueryError",
    "QuerySpec", "Source", "_source_sql", "buckets", "ceil_bucket", "describe", "floor_bucket",
    "grain_limits", "next_bucket", "parse_spec", "parse_time", "run", "small_cells_apply",
    "whitelist_markdown",
]
# comparing periods (``compare.py``)
__all__ += ["COMPARE_KINDS", "comparison_range", "run_compared"]
