"""The signing secret: given (``IOC_SECRET_KEY``), or generated once and kept under ``./var/``.

It signs the campus sign-in's pending-flow cookie (CAS and OpenID Connect ``state``), so a
guessable key lets anybody forge one. Whatever its origin — the environment, the file, or
the generator — a key must look like at least 128 bits of randomness; anything shorter,
repeated or made of words is refused at start-up with one line that says how to make a
good one. The checks are heuristics (a real estimate of a key's entropy needs to know how it
was made) tuned so that keys made by ``secrets``/``openssl rand`` of 128 bits or more always
pass and the usual human-chosen ones do not. Rotation: docs/security.md.

The site key (always generated) keys the pseudonyms of imported identifiers and the hashes
that stand in for personal data in dead letters; both files are owner-only.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections import Counter
from pathlib import Path

from ioc_app.settings import Settings, SettingsError

FILE = "secret_key"
SITE_KEY_FILE = "site_key"
MIN_BITS = 128
HOW = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
#: values people leave in place; refused whatever their length
KNOWN_WEAK = {"", "secret", "changeme", "change-me", "dev", "development", "default", "ioc",
              "password", "test", "please-change-me", "your-secret-key", "secret-key", "secretkey"}
#: words that give a key away; six characters or more (digit runs eight), so a random key
#: practically never holds one by chance (43 URL-safe characters, a six-letter word: ~1e-8)
WEAK_WORDS = ("password", "passwd", "secret", "changeme", "default", "example", "qwerty", "letmein",
              "12345678", "abcdefgh", "admin123", "iloveyou", "welcome", "monkey", "dragon", "master",
              "sunshine", "princess", "football", "shadow", "superman", "trustno1", "00000000", "11111111")
#: a key of letters in one case whose vowels are this common reads as words: English carries about 2 bits
#: per letter, not log2(26)
WORDLIKE_VOWELS = 0.33
WORD_BITS_PER_LETTER = 2.0
#: the same eight characters twice means a pattern (random 128-bit keys: chance below 1e-6)
REPEAT = 8
#: fewer distinct characters than this share of the possible ones means a pattern
MIN_DISTINCT = 0.4


def _alphabet(key: str) -> int:
    """The size of the character set the key seems drawn from: hex 16, base62/base64 when both
    cases appear (a short random key may lack digits or signs by chance), 94 with other signs."""
    if all(c in "0123456789abcdef" for c in key) or all(c in "0123456789ABCDEF" for c in key):
        return 16
    lower = any(c.islower() and c.isascii() for c in key)
    upper = any(c.isupper() and c.isascii() for c in key)
    digits = any(c.isdigit() and c.isascii() for c in key)
    signs = {c for c in key if c.isascii() and not c.isalnum()}
    size = 62 if lower and upper else 26 * (lower or upper) + 10 * digits
    if signs:
        size += 2 if signs <= set("-_+/=") else 32
    if any(not c.isascii() for c in key):
        size += 64
    return max(size, 2)


def estimated_bits(key: str) -> float:
    """How many bits of randomness the key could hold at most, judged by its length and
    characters; letters that read as words (one case, vowels as common as in text) count
    ``WORD_BITS_PER_LETTER`` each."""
    alphabet = _alphabet(key)
    per_char = math.log2(alphabet)
    letters = [c for c in key if c.isascii() and c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    if alphabet != 16 and len(letters) >= 8 and min(upper, len(letters) - upper) <= 0.1 * len(letters):
        vowels = sum(c in "aeiouAEIOU" for c in letters) / len(letters)
        if vowels >= WORDLIKE_VOWELS:
            return len(letters) * WORD_BITS_PER_LETTER + (len(key) - len(letters)) * per_char
    return len(key) * per_char


def weakness(key: str) -> str | None:
    """What is wrong with ``key`` as a signing secret, or None when it will do."""
    if key.lower() in KNOWN_WEAK:
        return "a well-known default"
    folded = key.lower()
    word = next((w for w in WEAK_WORDS if w in folded), None)
    if word:
        return f"built on the common word or sequence {word!r}"
    alphabet = _alphabet(key)
    distinct = len(Counter(key))
    if distinct < MIN_DISTINCT * min(len(key), alphabet):
        return f"made of too few different characters ({distinct})"
    seen: set[str] = set()
    for i in range(len(key) - REPEAT + 1):
        piece = key[i:i + REPEAT]
        if piece in seen:
            return "a repeated pattern"
        seen.add(piece)
    bits = estimated_bits(key)
    if bits < MIN_BITS:
        return f"too short for its characters (about {bits:.0f} of the {MIN_BITS} bits needed)"
    return None


def _refuse(origin: str, problem: str, fix: str) -> SettingsError:
    return SettingsError(f"{origin} is {problem}: {fix} (a random value of at least {MIN_BITS} bits, "
                         f"e.g. {HOW})")


def generate() -> str:
    """A new key: 256 random bits (drawn again in the unlikely case the checks object)."""
    while True:
        key = secrets.token_urlsafe(32)
        if weakness(key) is None:
            return key


def _owner_only_file(path: Path, make: str) -> str:
    """The content of ``path``, created 0600 with ``make`` when it does not exist yet; a file
    that has become readable by others is made owner-only again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made before, or by another process just now
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(make + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    for _ in range(100):  # another process may have created it and not written it yet
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.02)
    raise SettingsError(f"{path} is empty; delete it to have a new key generated")


def site_key(settings: Settings) -> bytes:
    """The site key: keys the pseudonyms of imported identifiers (考生号, ID numbers) and the
    hashes that stand in for personal data in dead letters. Generated on first use beside the
    secret key; keep it with the backups of the store (a new key gives the same person a
    new pseudonym), and never share it."""
    return bytes.fromhex(_owner_only_file(settings.var_dir / SITE_KEY_FILE, secrets.token_hex(32)))


def secret_key(settings: Settings) -> str:
    """The key to sign with; a weak one, from wherever it comes, stops the start."""
    if settings.secret_key:
        problem = weakness(settings.secret_key)
        if problem:
            raise _refuse("IOC_SECRET_KEY", problem, "set it to a random value, or leave it empty to "
                          f"have one generated in {settings.var_dir / FILE}")
        return settings.secret_key
    path = settings.var_dir / FILE
    key = _owner_only_file(path, generate())
    problem = weakness(key)
    if problem:
        raise _refuse(f"the secret key in {path}", problem, "delete the file to have a new one "
                      "generated at the next start, or write one there")
    return key
