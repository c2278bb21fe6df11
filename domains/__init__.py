"""The registry of domains: each module of this package declares one :class:`Domain`
(``DOMAIN = Domain(...)``), and every layer asks :func:`registered` instead of naming them.

A domain outside this package (a site's own, or one a test builds) joins with
:func:`register` and leaves with :func:`unregister`; the views the layers hold
(:class:`Live`, :class:`LiveList`) follow at once, since they read the registry on every
access (cached per :func:`generation`).
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar, overload

from domains.model import Domain

__all__ = ["Domain", "Live", "LiveList", "generation", "get", "register", "registered", "unregister"]

_lock = threading.RLock()
_domains: dict[str, Domain] = {}
_loaded = False
_generation = 0


def _load_builtin() -> None:
    """Every module of this package that declares ``DOMAIN`` (once, on first use)."""
    global _loaded
    if _loaded:  # the common case, without the lock
        return
    with _lock:
        if _loaded:
            return
        for info in pkgutil.iter_modules(__path__):
            module = importlib.import_module(f"{__name__}.{info.name}")
            domain = getattr(module, "DOMAIN", None)
            if isinstance(domain, Domain):
                _add(domain)
        _loaded = True


def _add(domain: Domain) -> None:
    global _generation
    if domain.name in _domains:
        raise ValueError(f"a domain named {domain.name!r} is registered already; pick another name "
                         f"or unregister it first")
    streams = {s.name for d in _domains.values() for s in d.streams}
    tables = {s.table for d in _domains.values() for s in d.streams}
    for s in domain.streams:
        if s.name in streams or s.table in tables:
            raise ValueError(f"stream {s.name} (table {s.table}) of domain {domain.name} is declared "
                             f"by another domain already")
    _domains[domain.name] = domain
    _generation += 1


def register(domain: Domain) -> Domain:
    """Add a domain; every layer sees it from now on. Refuses a name, stream or table that
    another domain has."""
    _load_builtin()
    with _lock:
        _add(domain)
    return domain


def unregister(name: str) -> None:
    """Remove a domain registered before (a test's extra domain, after the test)."""
    global _generation
    _load_builtin()
    with _lock:
        if _domains.pop(name, None) is None:
            raise KeyError(f"no domain {name!r} is registered")
        _generation += 1


def registered() -> tuple[Domain, ...]:
    """The registered domains, in their declared order."""
    _load_builtin()
    with _lock:
        return tuple(sorted(_domains.values(), key=lambda d: (d.order, d.name)))


def get(name: str) -> Domain:
    """One domain by name, with an error that lists the registered ones."""
    for d in registered():
        if d.name == name:
            return d
    raise KeyError(f"unknown domain {name!r}; use one of: {', '.join(d.name for d in registered())}")


def generation() -> int:
    """A number that changes whenever a domain joins or leaves (a cache key)."""
    _load_builtin()
    return _generation


K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class _Cached:
    """Recomputes ``build()`` from the registered domains when the registry changed."""

    def __init__(self, build: Callable[[tuple[Domain, ...]], object]) -> None:
        self._build = build
        self._at = -1
        self._value: object = None

    def value(self) -> object:
        if not _loaded:
            _load_builtin()
        now = _generation
        if self._at != now:
            self._value = self._build(registered())
            self._at = now
        return self._value


class Live(Mapping[K, V]):
    """A read-only mapping derived from the registered domains, always current: what a
    layer keeps as a module constant (``MEASURES``, ``STALE_AFTER_S`` …)."""

    def __init__(self, build: Callable[[tuple[Domain, ...]], Mapping[K, V]]) -> None:
        self._cache = _Cached(build)

    def _data(self) -> Mapping[K, V]:
        return self._cache.value()  # type: ignore[return-value]

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

    def __init__(self, build: Callable[[tuple[Domain, ...]], Sequence[T]]) -> None:
        self._cache = _Cached(build)

    def _data(self) -> Sequence[T]:
        return self._cache.value()  # type: ignore[return-value]

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
