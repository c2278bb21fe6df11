"""The one catalogue of UI text. Chinese is the default; English is complete.

Pages and widgets never hold literal UI strings: they call ``t(key, lang)``. The catalogue is
kept in one module per area (``shell``, ``gate``, ``network``, ``service``, ``enrollment``,
``explore``, ``health``, ``access``, ``errors``); a label several areas show (a contract's
enumeration, a measure named on a tile and in /explore) is declared once in ``labels`` and the
areas derive their keys from it. Tests check that every key has both languages, that every
key the code uses exists, and that no zh/en pair is written twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
                    f"UI text key {key!r} is declared in both layouts/i18n/{home[key]}.py and "
                    f"layouts/i18n/{area}.py: keep it in one of them")
            home[key] = area
            catalogue[key] = text
    return catalogue


CATALOGUE: dict[str, Text] = merge((m.__name__.rsplit(".", 1)[-1], m.TEXTS) for m in AREAS)


def normalise_lang(lang: str | None) -> str:
    """A supported language code; anything else falls back to Chinese."""
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = DEFAULT_LANG) -> str:
    """The text of ``key`` in ``lang``; an unknown key is a bug and raises ``KeyError``."""
    return CATALOGUE[key][normalise_lang(lang)]
