"""The registry of the ingest side of the domains, and the one list of streams: everything
that iterates over streams starts here.

Each domain module of this package (``ingest/gate.py`` …) ends with ``DOMAIN =
IngestDomain(...)`` and is found by :data:`DOMAINS` on first use; a domain registered later
(:func:`register`, e.g. a test's extra domain) is seen at once by every view below and by the
views other ingest modules keep (file import's headers, the simulator).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast, overload

from ingest.contracts import Stream
from ingest.tables import IngestDomain

#: a module declares a domain when it assigns ``DOMAIN`` at its top level
_DECLARES = re.compile(r"^DOMAIN\s*[:=]", re.MULTILINE)


class Declared(Protocol):
    """What the registry needs of a domain declaration: its name and its place."""

    @property
    def name(self) -> str: ...

    @property
    def order(self) -> int: ...


D = TypeVar("D", bound=Declared)
K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


# --- the registry (metrics/registry.py has the same code: metrics may not import ingest)


class Registry(Generic[D]):
    """The domains of one layer: found in the layer's package (every module that declares
    ``DOMAIN``, on first use) or added later with :meth:`register`.

    The views the layer keeps as module constants (:meth:`live`, :meth:`live_list`) read the
    registry on every access, recomputed only when a domain joined or left, so a domain
    registered later (a site's own, or one a test builds) is seen at once.
    """

    def __init__(self, package: str, path: Sequence[str], kind: type[D], layer: str) -> None:
        self._package, self._path, self._kind, self._layer = package, path, kind, layer
        self._lock = threading.RLock()
        self._domains: dict[str, D] = {}
        self._loaded = False
        self.generation = 0
        """A number that changes whenever a domain joins or leaves (a cache key)."""

    def _load(self) -> None:
        """Every module of the package that declares ``DOMAIN`` at its top level. Modules are
        imported by name because which ones declare a domain is what is being found out; a
        module that does not assign ``DOMAIN`` is not imported here."""
        if self._loaded:  # the common case, without the lock
            return
        with self._lock:
            if self._loaded:
                return
            for info in pkgutil.iter_modules(self._path):
                source = Path(self._path[0], f"{info.name}.py")
                if info.ispkg or not _DECLARES.search(source.read_text(encoding="utf-8")):
                    continue
                domain = getattr(importlib.import_module(f"{self._package}.{info.name}"), "DOMAIN", None)
                if domain is None:  # the text matched, but the module assigns no DOMAIN
                    continue
                if not isinstance(domain, self._kind):
                    raise TypeError(f"{self._package}/{info.name}.py: DOMAIN must be a "
                                    f"{self._kind.__name__}, not {type(domain).__name__}")
                self._add(domain)
            self._loaded = True

    def _add(self, domain: D) -> None:
        if domain.name in self._domains:
            raise ValueError(f"a domain named {domain.name!r} is registered in {self._layer} "
                             f"already; pick another name or unregister it first")
        self._check(domain, tuple(self._domains.values()))
        self._domains[domain.name] = domain
        self.generation += 1

    def _check(self, domain: D, others: tuple[D, ...]) -> None:
        """Refuse a domain that clashes with the registered ones (overridden per layer)."""

    def register(self, domain: D) -> D:
        """Add a domain; the layer sees it from now on."""
        self._load()
        with self._lock:
            self._add(domain)
        return domain

    def unregister(self, name: str) -> None:
        """Remove a domain registered before (a test's extra domain, after the test)."""
        self._load()
        with self._lock:
            if self._domains.pop(name, None) is None:
                raise KeyError(f"no domain {name!r} is registered in {self._layer}")
            self.generation += 1

    def registered(self) -> tuple[D, ...]:
        """The registered domains, in their declared order."""
        self._load()
        with self._lock:
            return tuple(sorted(self._domains.values(), key=lambda d: (d.order, d.name)))

    def get(self, name: str) -> D:
        """One domain by name, with an error that lists the registered ones."""
        for d in self.registered():
            if d.name == name:
                return d
        raise KeyError(f"unknown domain {name!r} in {self._layer}; use one of: "
                       f"{', '.join(d.name for d in self.registered())}")

    def current(self) -> int:
        """The generation after loading the package's domains."""
        self._load()
        return self.generation

    def live(self, build: Callable[[tuple[D, ...]], Mapping[K, V]]) -> Live[K, V]:
        """A read-only mapping derived from the registered domains, always current."""
        return Live(self, build)

    def live_list(self, build: Callable[[tuple[D, ...]], Sequence[T]]) -> LiveList[T]:
        """A read-only sequence derived from the registered domains, always current."""
        return LiveList(self, build)


class _Cached:
    """Recomputes ``build()`` from the registered domains when the registry changed."""

    def __init__(self, registry: Registry[Any], build: Callable[[tuple[Any, ...]], object]) -> None:
        self._registry, self._build = registry, build
        self._at = -1
        self._value: object = None

    def value(self) -> object:
        now = self._registry.current()
        if self._at != now:
            self._value = self._build(self._registry.registered())
            self._at = now
        return self._value


class Live(Mapping[K, V]):
    """A read-only mapping derived from the registered domains: what a module keeps as a
    constant (``BY_NAME``, ``MEASURES`` …)."""

    def __init__(self, registry: Registry[Any], build: Callable[[tuple[Any, ...]], Mapping[K, V]]) -> None:
        self._cache = _Cached(registry, build)

    def _data(self) -> Mapping[K, V]:
        return cast(Mapping[K, V], self._cache.value())

    def __getitem__(self, key: K) -> V:
        return self._data()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data()

    def __iter__(self) -> Iterator[K]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"Live({dict(self._data())!r})"


class LiveList(Sequence[T]):
    """A read-only sequence derived from the registered domains, always current."""

    def __init__(self, registry: Registry[Any], build: Callable[[tuple[Any, ...]], Sequence[T]]) -> None:
        self._cache = _Cached(registry, build)

    def _data(self) -> Sequence[T]:
        return cast(Sequence[T], self._cache.value())

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._data()[index]

    def __len__(self) -> int:
        return len(self._data())

    def __add__(self, other: Sequence[T]) -> tuple[T, ...]:
        return (*self._data(), *other)

    def __repr__(self) -> str:
        return f"LiveList({list(self._data())!r})"


# --- the ingest domains


class _IngestDomains(Registry[IngestDomain]):
    def _check(self, domain: IngestDomain, others: tuple[IngestDomain, ...]) -> None:
        streams = {s.name: d.name for d in others for s in d.streams}
        tables = {s.table: d.name for d in others for s in d.streams}
        for s in domain.streams:
            owner = streams.get(s.name) or tables.get(s.table)
            if owner is not None:
                raise ValueError(f"stream {s.name} (table {s.table}) of domain {domain.name} is "
                                 f"declared by domain {owner} already; rename one of them")


DOMAINS: Registry[IngestDomain] = _IngestDomains("ingest", [str(Path(__file__).parent)], IngestDomain,
                                                 "ingest")
register = DOMAINS.register
unregister = DOMAINS.unregister
registered = DOMAINS.registered

STREAMS: LiveList[Stream] = DOMAINS.live_list(lambda ds: tuple(s for d in ds for s in d.streams))
BY_NAME: Live[str, Stream] = DOMAINS.live(lambda ds: {s.name: s for d in ds for s in d.streams})


def get_stream(name: str) -> Stream:
    """Look a stream up by its contract name, with an error that lists the valid ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown stream {name!r}; use one of: {', '.join(sorted(BY_NAME))}"
        ) from None
