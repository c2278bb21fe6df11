"""How a code the site catalogue lacks is shown where names are expected."""

from __future__ import annotations

from layouts.i18n.labels import Text

TEXTS: dict[str, Text] = {
    "names.unknown": {"zh": "{code}（未登记）", "en": "{code} (not in catalogue)"},
    "names.code_col": {"zh": "{col}代码", "en": "{col} code"},
}
