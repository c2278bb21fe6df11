"""The one catalogue of UI text. Chinese is the default; English is complete.

Pages and widgets never hold literal UI strings: they call ``t(key, lang)``. The catalogue is
kept in one module per area (``shell``, ``gate``, ``network``, ``service``, ``enrollment``,
``explore``, ``health``, ``access``, ``errors``); a label several areas show (a contract's
enumeration, a measure named on a tile and in /explore) is declared once in ``labels`` and the
areas derive their keys from it. The labels of a domain's own figures (its query measures,
its streams) come with the domain (``domains/<name>.py``, ``Domain.labels``): the catalogue is
the areas' texts plus those of every registered domain, so a domain registered later is
labelled at once. Tests check that every key has both languages, that every key the code
uses exists, that every registered domain's measures, dimensions and streams are labelled,
and that no zh/en pair is written twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import domains
from layouts.i18n import access, enrollment, errors, explore, gate, health, network, service, shell
from layouts.i18n.labels import Text

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

AREAS = (shell, gate, network, service, enrollment, explore, health, access, errors)


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
    """Where an area's texts are written: ``layouts/i18n/<area>.py``, or a domain's labels."""
    return area if area.startswith("domain ") else f"layouts/i18n/{area}.py"


def _catalogue(registered: tuple[domains.Domain, ...]) -> dict[str, Text]:
    return merge([*((m.__name__.rsplit(".", 1)[-1], m.TEXTS) for m in AREAS),
                  *((f"domain {d.name} (its labels)", d.labels) for d in registered)])


CATALOGUE: domains.Live[str, Text] = domains.Live(_catalogue)


def normalise_lang(lang: str | None) -> str:
    """A supported language code; anything else falls back to Chinese."""
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = DEFAULT_LANG) -> str:
    """The text of ``key`` in ``lang``; an unknown key is a bug and raises ``KeyError``."""
    return CATALOGUE[key][normalise_lang(lang)]
