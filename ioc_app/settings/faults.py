"""``IOC_FAULTS``: the fault points of the ingest path a fault test may kill a process at
(what each does is in ``ingest.faults``); never set in production."""

from __future__ import annotations

from ioc_app.settings.values import SettingsError

#: ``IOC_FAULTS`` (fault tests only, see ``ingest.faults``): every point, and where it sits
FAULT_POINTS = {
    "helper.appended": "an ingest helper buffered a group, before it answers",
    "ingest.buffered": "a request's events are durable, before the 200",
    "redis.claimed": "entries of a silent consumer were claimed, before they are queued",
    "redis.reserved": "a batch was reserved in Redis, before the insert",
    "redis.batch_claimed": "the rest of a reserved batch was claimed, before the insert",
    "writer.inserted": "the store has the batch, before it is released from the buffer",
    "redis.released": "Redis released the batch, before the writer learns it",
    "wal.confirmed": "the write-ahead log confirmed the batch",
}
FAULT_ACTIONS = ("group", "self", "redis", "rewrite")

class FaultSpecError(ValueError):
    """``IOC_FAULTS`` names an unknown point or action, or a probability out of range."""


def parse_faults(spec: str) -> dict[str, tuple[float, str]]:
    """``point=probability:action,…`` → {point: (probability, action)}."""
    plan: dict[str, tuple[float, str]] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        point, _, rest = part.partition("=")
        prob, _, action = rest.partition(":")
        if point not in FAULT_POINTS:
            raise FaultSpecError(f"unknown fault point {point!r}; the points are: {', '.join(FAULT_POINTS)}")
        if action not in FAULT_ACTIONS:
            raise FaultSpecError(f"fault point {point}: action {action!r} is not one of "
                                 f"{', '.join(FAULT_ACTIONS)} (write point=probability:action)")
        try:
            p = float(prob)
        except ValueError:
            p = -1.0
        if not 0 <= p <= 1:
            raise FaultSpecError(f"fault point {point}: probability {prob!r} must be a number "
                                 f"from 0 to 1")
        plan[point] = (p, action)
    return plan


def parse_faults_setting(name: str, raw: str) -> str:
    try:
        parse_faults(raw)
    except FaultSpecError as exc:
        raise SettingsError(f"{name}={raw!r}: {exc}") from None
    return raw.strip()
