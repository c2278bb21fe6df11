"""Where an entry or a key of the catalogue sits in its file, for messages that name the line.

``tomllib`` gives values without positions; a small scan of the text finds the table headers
and the keys under them, which is all a message needs: the ``n``-th ``[[gates]]``, the key
``cs`` of ``[colleges]``, the line of ``lanes`` inside an entry. Anything not found falls back
to the nearest enclosing line (the entry, the section, else line 1) rather than to a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARRAY = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")


@dataclass(frozen=True)
class _Block:
    name: str  # the header's name, "" before the first header
    array: bool
    start: int  # the header's line (1-based; 0 for the top of the file)
    end: int  # the last line of the block


class Lines:
    """Headers and keys of one TOML text, by line."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        blocks: list[_Block] = []
        name, array, start = "", False, 0
        for i, line in enumerate(self.lines, 1):
            match = _ARRAY.match(line) or _TABLE.match(line)
            if match:
                blocks.append(_Block(name, array, start, i - 1))
                name = re.sub(r"\s*\.\s*", ".", match.group(1).replace('"', "").replace("'", "")).strip()
                array, start = bool(_ARRAY.match(line)), i
        blocks.append(_Block(name, array, start, len(self.lines)))
        self.blocks = blocks

    def section(self, name: str) -> int:
        """The line of ``[name]`` or of the first ``[[name]]``; 1 when the file has none."""
        heads = (b.start for b in self.blocks if b.start and b.name.split(".")[0] == name)
        return next(heads, 1)

    def item(self, section: str, index: int) -> int:
        """The line of the ``index``-th (0-based) ``[[section]]`` header."""
        starts = [b.start for b in self.blocks if b.name == section and b.array]
        return starts[index] if index < len(starts) else self.section(section)

    def entry(self, section: str, key: str) -> int:
        """The line of ``key = { … }`` in ``[section]`` (or of a ``[section.key]`` header)."""
        for b in self.blocks:
            if b.name == f"{section}.{key}":
                return b.start
            if b.name == section and not b.array:
                line = self._key_in(b.start + 1, b.end, key)
                if line:
                    return line
        return self.section(section)

    def field(self, line: int, key: str) -> int:
        """The line of ``key =`` in the ``[[…]]`` entry that holds ``line`` (``line`` itself for
        an entry written inline, or when the key is not written)."""
        block = self._holding(line)
        if not block.array and line != block.start:
            return line
        return self._key_in(block.start + 1, block.end, key) or line

    def find(self, start: int, text: str) -> int:
        """The first line from ``start`` on, within its block, that holds ``text``."""
        block = self._holding(start)
        for i in range(start, block.end + 1):
            if text in self.lines[i - 1]:
                return i
        return start

    def _holding(self, line: int) -> _Block:
        return next((b for b in reversed(self.blocks) if b.start <= line), self.blocks[0])

    def _key_in(self, first: int, last: int, key: str) -> int:
        for i in range(first, last + 1):
            match = _KEY.match(self.lines[i - 1])
            if match and next(g for g in match.groups() if g is not None) == key:
                return i
        return 0
