"""The one catalogue of UI text. Chinese is the default; English is complete.

Pages and widgets never hold literal UI strings: they call ``t(key, lang)``. The catalogue is
kept in one module per area (``shell``, ``gate``, ``network``, ``service``, ``enrollment``,
``explore``, ``health``, ``access``, ``errors`` …), each holding ``TEXTS``; the catalogue finds
them itself, so a new domain's labels (``layouts/i18n/<name>.py``: its measures in /explore,
its streams on /health) edit no other module. A label several areas show (a contract's
enumeration, a measure named on a tile and in /explore) is declared once in ``labels`` and the
areas derive their keys from it. An area from outside this package (a test's extra domain)
joins with :func:`register` and leaves with :func:`unregister`. Tests check that every key has
both languages, that every key the code uses exists, that every registered domain's measures,
dimensions and streams are labelled (``ioc_app/domains.py``), and that no zh/en pair is
written twice.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from types import ModuleType

from layouts.i18n.labels import Text

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


def _areas() -> tuple[ModuleType, ...]:
    """Every module of this package that holds ``TEXTS``. They are imported by name because
    which modules are areas is what is being found out."""
    modules = (importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__))
    return tuple(m for m in modules if isinstance(getattr(m, "TEXTS", None), dict))


AREAS = _areas()


def merge(areas: Iterable[tuple[str, Mapping[str, Text]]]) -> dict[str, Text]:
    """One catalogue from the areas' texts; a key two areas both declare is refused, since the
    later one would silently replace the earlier one's text on every page that shows it."""
    catalogue: dict[str, Text] = {}
    home: dict[str, str] = {}
    for area, texts in areas:
        for key, text in texts.items():
            if key in home:
                raise ValueError(
                    f"UI text key {key!r} is declared in both {_where(home[key])} and "
                    f"{_where(area)}: keep it in one of them")
            home[key] = area
            catalogue[key] = text
    return catalogue


def _where(area: str) -> str:
    """Where an area's texts are written: ``layouts/i18n/<area>.py``, or one registered."""
    return area if " " in area else f"layouts/i18n/{area}.py"


_registered: dict[str, Mapping[str, Text]] = {}
_generation = 0

CATALOGUE: dict[str, Text] = {}
"""Every key → its text per language: the areas' and the registered ones'."""


def _rebuild() -> None:
    global _generation
    merged = merge([*((m.__name__.rsplit(".", 1)[-1], m.TEXTS) for m in AREAS), *_registered.items()])
    CATALOGUE.clear()
    CATALOGUE.update(merged)
    _generation += 1


def register(area: str, texts: Mapping[str, Text]) -> None:
    """Add texts from outside this package (``area`` names where they are written, e.g.
    ``"tests/test_extra_domain.py (parking)"``); a key another area declares is refused."""
    if area in _registered:
        raise ValueError(f"UI texts {area!r} are registered already; unregister them first")
    _registered[area] = texts
    try:
        _rebuild()
    except ValueError:
        del _registered[area]
        _rebuild()
        raise


def unregister(area: str) -> None:
    """Remove texts registered before."""
    if _registered.pop(area, None) is None:
        raise KeyError(f"no UI texts {area!r} are registered")
    _rebuild()


def generation() -> int:
    """A number that changes whenever texts are registered or unregistered (a cache key)."""
    return _generation


_rebuild()


def normalise_lang(lang: str | None) -> str:
    """A supported language code; anything else falls back to Chinese."""
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = DEFAULT_LANG) -> str:
    """The text of ``key`` in ``lang``; an unknown key is a bug and raises ``KeyError``."""
    return CATALOGUE[key][normalise_lang(lang)]
