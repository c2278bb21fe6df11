"""The catalogue is complete in both languages and every key the code asks for exists."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from ingest.registry import STREAMS
from ioc_app import domains
from layouts.i18n import CATALOGUE, LANGS, merge, t

ROOT = Path(__file__).resolve().parents[2]
# catalogue keys are "section.name"; longer dotted strings are snapshot paths
KEY_USE = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']|["']([a-z0-9_]+\.[a-z0-9_]+)["']""")
# stream names ("gate.pass") look like keys too: tiles name the stream whose freshness they show
STREAM_NAMES = {s.name for s in STREAMS}


def test_every_key_has_every_language() -> None:
    for key, texts in CATALOGUE.items():
        assert set(texts) == set(LANGS), key
        assert all(v.strip() for v in texts.values()), key


def test_keys_used_in_code_exist() -> None:
    used = set()
    for folder in ("pages", "layouts"):
        for path in (ROOT / folder).rglob("*.py"):
            for m in KEY_USE.finditer(path.read_text()):
                key = m.group(1) or m.group(2)
                if key.split(".")[0] in {k.split(".")[0] for k in CATALOGUE}:
                    used.add(key)
    missing = sorted(k for k in used if k not in CATALOGUE and k not in STREAM_NAMES)
    assert used and missing == []


def test_chinese_is_the_default() -> None:
    assert t("app.title") == "智慧校园运营中心"
    assert t("app.title", "en") == "Campus Operations Center"
    assert t("app.title", "fr") == t("app.title", "zh")


def test_no_label_is_declared_twice() -> None:
    """Keys showing the same words share one declaration (``layouts/i18n/labels.py``), so a
    change of wording reaches every place; two separately written equal pairs are refused."""
    keys_by_pair: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for key, texts in CATALOGUE.items():
        keys_by_pair[tuple(texts[lang] for lang in LANGS)].append(key)
    written_twice = {
        pair: keys for pair, keys in keys_by_pair.items()
        if len({id(CATALOGUE[k]) for k in keys}) > 1
    }
    assert written_twice == {}, "declare these once in layouts/i18n/labels.py and derive the keys"


def test_two_areas_may_not_declare_one_key() -> None:
    first = {"zh": "今日", "en": "Today"}
    assert merge([("gate", {"gates.today": first}), ("shell", {"app.short": first})]) == {
        "gates.today": first, "app.short": first}
    with pytest.raises(ValueError, match=r"layouts/i18n/gate\.py and layouts/i18n/explore\.py"):
        merge([("gate", {"gates.today": first}), ("explore", {"gates.today": {"zh": "今天", "en": "Today"}})])


@pytest.mark.parametrize("domain", domains.registered(), ids=lambda d: d.name)
def test_every_registered_domain_is_labelled(domain: domains.Domain) -> None:
    """Its streams on /health and its name, measures, dimensions and values in /explore."""
    assert domains.unlabelled(domain) == [], f"add these labels to layouts/i18n/{domain.name}.py (TEXTS)"
