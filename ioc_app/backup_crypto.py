"""Encryption at rest for backups: the key ring and the file format.

A backup holds the whole store, the tokens and the secret and site keys; whoever copies it
must learn nothing and change nothing unnoticed. Every file is encrypted with AES-256-GCM in
chunks of 1 MiB, so a file of any size streams through a small buffer:

    header  = b"IOCBKP1\\0" | key id (8 bytes) | nonce prefix (8 random bytes)
    chunk i = u32 length | AES-GCM(key, nonce = prefix | u32 i, aad = header | path | u64 i | last)

The associated data binds each chunk to its file's path in the backup, its place in the file
and whether it is the last one, so a flipped byte, chunks swapped between files or
reordered, and a file cut short (even at a chunk boundary) all fail to decrypt.

The key file (``IOC_BACKUP_KEY_FILE``, default ``<var>/backup.key``, owner-only, generated
on first use) holds one key per line as hex: the first line encrypts new backups, the lines
after it are older keys kept to open older backups (``backup rotate-key`` puts a new key in
front). A key is known by its id, the first 8 bytes of a SHA-256 of it, written into every
backup, so a backup presented with the wrong key is recognised as such.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ioc_app.backup_manifest import BackupError
from ioc_app.settings import Settings

MAGIC = b"IOCBKP1\0"
HEADER = struct.Struct("<8s8s8s")
CHUNK = 1 << 20
LENGTH = struct.Struct("<I")
TAG = 16


def key_id(key: bytes) -> str:
    """The public name of a key: reveals nothing of it, tells keys apart."""
    return hashlib.sha256(b"ioc backup key\0" + key).hexdigest()[:16]


@dataclass(frozen=True)
class KeyRing:
    """The current key (first) and the older ones kept to open older backups."""

    path: Path
    keys: tuple[bytes, ...]

    @property
    def current(self) -> bytes:
        return self.keys[0]

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    def find(self, kid: str) -> bytes | None:
        return next((k for k in self.keys if key_id(k) == kid), None)

    def ids(self) -> list[str]:
        return [key_id(k) for k in self.keys]


def _parse(path: Path, text: str) -> tuple[bytes, ...]:
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            key = bytes.fromhex(line)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise BackupError(f"{path} line {number} is not a backup key (64 hex digits); fix the "
                              f"line, or point IOC_BACKUP_KEY_FILE at the right key file")
        keys.append(key)
    if not keys:
        raise BackupError(f"{path} holds no key; restore the key file from where you keep it, "
                          f"or delete it to have a new key generated")
    return tuple(keys)


def load_keys(settings: Settings, create: bool = True) -> KeyRing:
    """The key ring; with ``create``, a key file that does not exist yet is made (0600).

    Restoring never creates one: a new key cannot open an existing backup."""
    path = settings.backup_key_path
    if not path.exists():
        if not create:
            raise BackupError(f"no backup key at {path}: copy the key file kept apart from the "
                              f"backups there, or set IOC_BACKUP_KEY_FILE to it")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it just now
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return KeyRing(path, _parse(path, path.read_text()))


def rotate(settings: Settings) -> KeyRing:
    """A new current key in front of the old ones (kept: older backups still open)."""
    ring = load_keys(settings)
    text = "\n".join(k.hex() for k in (secrets.token_bytes(32), *ring.keys)) + "\n"
    tmp = ring.path.with_name(f".{ring.path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, ring.path)
    return load_keys(settings, create=False)


def mac(key: bytes, data: bytes) -> str:
    """An HMAC of ``data`` under a key derived from the backup key (the manifest's seal)."""
    sub = hmac.new(key, b"ioc backup manifest", hashlib.sha256).digest()
    return hmac.new(sub, data, hashlib.sha256).hexdigest()


def _aad(header: bytes, relpath: str, index: int, last: bool) -> bytes:
    return header + relpath.encode() + struct.pack("<QB", index, last)


def _chunks(src: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    current = src.read(CHUNK)
    while True:
        following = src.read(CHUNK) if len(current) == CHUNK else b""
        yield current, not following
        if not following:
            return
        current = following


def encrypt_file(key: bytes, relpath: str, src: Path, dst: Path) -> tuple[str, int]:
    """Encrypt ``src`` into ``dst`` (owner-only); returns the SHA-256 and size of ``dst``."""
    aes = AESGCM(key)
    header = HEADER.pack(MAGIC, bytes.fromhex(key_id(key)), secrets.token_bytes(8))
    digest = hashlib.sha256(header)
    size = len(header)
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(src, "rb") as fin, os.fdopen(fd, "wb") as out:
        out.write(header)
        for index, (plain, last) in enumerate(_chunks(fin)):
            nonce = header[16:24] + struct.pack("<I", index)
            sealed = aes.encrypt(nonce, plain, _aad(header, relpath, index, last))
            frame = LENGTH.pack(len(sealed)) + sealed
            out.write(frame)
            digest.update(frame)
            size += len(frame)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def file_key_id(path: Path) -> str:
    """The id of the key a backup file was encrypted with (from its header)."""
    with open(path, "rb") as fh:
        head = fh.read(HEADER.size)
    if len(head) < HEADER.size or head[:8] != MAGIC:
        return ""
    return head[8:16].hex()


def decrypt_file(key: bytes, relpath: str, src: Path, dst: Path) -> None:
    """Decrypt ``src`` into ``dst``; refuses (``BackupError``) a damaged or cut file."""
    aes = AESGCM(key)
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(src, "rb") as fin, os.fdopen(fd, "wb") as out:
        header = fin.read(HEADER.size)
        if len(header) != HEADER.size or header[:8] != MAGIC:
            raise BackupError(f"{src} is not an encrypted backup file (damaged header): the backup "
                              f"is damaged; restore from another backup")
        index, last = 0, False
        while not last:
            raw = fin.read(LENGTH.size)
            if len(raw) != LENGTH.size:
                raise BackupError(f"{src} is cut short: the backup is incomplete; copy it again "
                                  f"from where it was written, or restore from another backup")
            (length,) = LENGTH.unpack(raw)
            sealed = fin.read(length) if length <= CHUNK + TAG else b""
            nonce = header[16:24] + struct.pack("<I", index)
            for last in (False, True):
                try:
                    plain = aes.decrypt(nonce, sealed, _aad(header, relpath, index, last))
                    break
                except InvalidTag:
                    continue
            else:
                raise BackupError(f"{src} does not decrypt (chunk {index} damaged or cut short): "
                                  f"the backup is damaged; restore from another backup")
            out.write(plain)
            index += 1
        if fin.read(1):
            raise BackupError(f"{src} has bytes after its last chunk: the backup is damaged; "
                              f"restore from another backup")
        out.flush()
        os.fsync(out.fileno())
