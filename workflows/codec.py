"""Encryption of every payload the project sends through Temporal, so that citizens' names, phones and texts
never sit in clear in Temporal's history (or in its database, its UI, `temporal workflow show`, ...).

`EncryptionCodec` is a `temporalio.converter.PayloadCodec`: it turns each payload (workflow inputs and results,
activity inputs and results, update arguments, query results, failure messages, memos) into one encrypted
payload whose metadata says `encoding: binary/encrypted`, which key (`encryption-key-id`) and which cipher
(`encryption-cipher`) sealed it. The plaintext is the whole original payload (its metadata and data), so
decoding gives back exactly what the data converter produced.

Ciphers (both authenticated, both from the `cryptography` package, which ships OpenSSL 3):
- `AES-256-GCM` (default): 32-byte keys;
- `SM4-GCM` (the national standard block cipher, GB/T 32907, in GCM mode): 16-byte keys.
Each payload gets a fresh random 96-bit nonce; the data is nonce ‖ ciphertext ‖ 128-bit tag, and the key id and
cipher name are bound to it as associated data, so moving a payload to another key id fails authentication.
Random nonces are safe for about 2^32 payloads per key: rotate keys well before that.

Keys come from configuration: `WUHUAN_PAYLOAD_KEYS="new:BASE64,old:BASE64"`; the first key encrypts, every key
decrypts (rotation: add the new key first, keep the old ones as long as histories sealed with them are kept).
With no keys configured (the embedded default) one key is generated once and kept in `<data_dir>/payload.keys`
(mode 0600, same format, one key a line or comma-separated) so that the worker, the API and the command line of
one installation, and their restarts, all share it. Payloads without the `binary/encrypted` encoding (histories
recorded before encryption was turned on) pass through decoding unchanged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
CIPHER = "encryption-cipher"
AES_GCM = "AES-256-GCM"
SM4_GCM = "SM4-GCM"
KEY_BYTES = {AES_GCM: 32, SM4_GCM: 16}
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_FILE = "payload.keys"
AAD_PREFIX = b"wuhuan-payload-v1\x00"


class PayloadKeyError(ValueError):
    """The key configuration is wrong, or a payload was sealed with a key that is not configured."""


class PayloadDecryptError(ValueError):
    """A payload failed authentication: altered, truncated, or sealed with a different key of the same id."""


def cipher_name(text: str) -> str:
    """Normalise a configured cipher name (`aes-256-gcm`, `aes-gcm`, `sm4-gcm`, `sm4`)."""
    t = text.strip().upper().replace("_", "-")
    if t in ("AES-256-GCM", "AES-GCM", "AES"):
        return AES_GCM
    if t in ("SM4-GCM", "SM4"):
        return SM4_GCM
    raise PayloadKeyError(f"unknown payload cipher {text!r}: use AES-256-GCM or SM4-GCM")


# --- the two ciphers --------------------------------------------------------------------------------------


def _seal(cipher: str, key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    if cipher == AES_GCM:
        return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    return nonce + enc.update(plaintext) + enc.finalize() + enc.tag


def _open(cipher: str, key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise InvalidTag()
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    if cipher == AES_GCM:
        return AESGCM(key).decrypt(nonce, body, aad)
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, body[-TAG_BYTES:])).decryptor()
    dec.authenticate_additional_data(aad)
    return dec.update(body[:-TAG_BYTES]) + dec.finalize()


def check_cipher_available(cipher: str) -> None:
    """SM4 depends on the OpenSSL that `cryptography` was built with (its wheels ship one that has it)."""
    try:
        _open(cipher, b"\0" * KEY_BYTES[cipher], _seal(cipher, b"\0" * KEY_BYTES[cipher], b"x", b""), b"")
    except UnsupportedAlgorithm as err:
        raise PayloadKeyError(f"{cipher} is not available in this build of cryptography/OpenSSL: {err}") from None


def _aad(key_id: str, cipher: str) -> bytes:
    return AAD_PREFIX + cipher.encode() + b"\x00" + key_id.encode()


# --- keys -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    """Keys by id, in configured order: `keys[0]` encrypts, all decrypt."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def active(self) -> tuple[str, bytes]:
        if not self.keys:
            raise PayloadKeyError("no payload key configured (WUHUAN_PAYLOAD_KEYS)")
        return self.keys[0]

    def get(self, key_id: str) -> bytes | None:
        for kid, key in self.keys:
            if kid == key_id:
                return key
        return None

    @property
    def ids(self) -> list[str]:
        return [kid for kid, _ in self.keys]


def parse_keys(text: str) -> KeyRing:
    """`id:base64key` entries separated by commas or new lines (blank lines and `#` comments ignored)."""
    keys: list[tuple[str, bytes]] = []
    entries = [e for line in text.splitlines() if not line.lstrip().startswith("#") for e in line.split(",")]
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        kid, sep, b64 = entry.partition(":")
        kid = kid.strip()
        if not sep or not kid:
            raise PayloadKeyError("each payload key must be written id:base64key")
        try:
            key = base64.b64decode(b64.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise PayloadKeyError(f"payload key {kid!r} is not valid base64") from None
        if len(key) not in KEY_BYTES.values():
            raise PayloadKeyError(f"payload key {kid!r} has {len(key)} bytes: AES-256-GCM needs 32, SM4-GCM 16")
        if any(k == kid for k, _ in keys):
            raise PayloadKeyError(f"payload key id {kid!r} appears twice")
        keys.append((kid, key))
    return KeyRing(tuple(keys))


def format_keys(keys: Iterable[tuple[str, bytes]]) -> str:
    return ",".join(f"{kid}:{base64.b64encode(key).decode()}" for kid, key in keys)


def new_key(cipher: str = AES_GCM, key_id: str | None = None) -> tuple[str, bytes]:
    return key_id or f"k{secrets.token_hex(4)}", secrets.token_bytes(KEY_BYTES[cipher])


def load_key_file(path: Path, cipher: str, create: bool) -> KeyRing:
    """The keys kept in `path`; with `create`, a first key is generated there (0600) if the file is missing.
    Creation is atomic (written aside, then hard-linked into place), so a worker and an API starting at the
    same moment end up with the same key."""
    if not path.exists():
        if not create:
            return KeyRing(())
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".payload-keys-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(
                    "# Wuhuan payload encryption keys: id:base64key, the first encrypts, all decrypt.\n"
                    "# Keep this file (and a backup): without it the Temporal histories cannot be read.\n"
                )
                fh.write(format_keys([new_key(cipher)]) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return parse_keys(path.read_text(encoding="utf-8"))


def keyring_for(payload_keys: str | None, data_dir: Path, cipher: str = AES_GCM, create: bool = True) -> KeyRing:
    """The configured keys, or else the installation's key file under data_dir."""
    if payload_keys and payload_keys.strip():
        ring = parse_keys(payload_keys)
        if not ring.keys:
            raise PayloadKeyError("WUHUAN_PAYLOAD_KEYS is set but holds no key")
        return ring
    return load_key_file(Path(data_dir) / KEY_FILE, cipher, create)


# --- the codec --------------------------------------------------------------------------------------------


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload with the ring's first key; decrypts with whichever key id a payload names.

    With `encrypt=False` it only decodes (encryption turned off, old encrypted histories still readable)."""

    def __init__(self, ring: KeyRing, cipher: str = AES_GCM, encrypt: bool = True):
        self.ring, self.cipher, self.encrypt = ring, cipher_name(cipher), encrypt
        if encrypt:
            kid, key = ring.active
            if len(key) != KEY_BYTES[self.cipher]:
                raise PayloadKeyError(
                    f"the encrypting payload key {kid!r} has {len(key)} bytes; "
                    f"{self.cipher} needs {KEY_BYTES[self.cipher]}"
                )
            check_cipher_available(self.cipher)

    @property
    def key_id(self) -> str | None:
        return self.ring.active[0] if self.encrypt else None

    def encode_one(self, payload: Payload) -> Payload:
        if not self.encrypt or payload.metadata.get("encoding") == ENCODING:
            return payload
        kid, key = self.ring.active
        sealed = _seal(self.cipher, key, payload.SerializeToString(deterministic=True), _aad(kid, self.cipher))
        return Payload(metadata={"encoding": ENCODING, KEY_ID: kid.encode(), CIPHER: self.cipher.encode()}, data=sealed)

    def decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # recorded before encryption, or never encrypted
        kid = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = payload.metadata.get(CIPHER, AES_GCM.encode()).decode("utf-8", "replace")
        if not kid:
            raise PayloadKeyError("an encrypted payload carries no key id")
        if cipher not in KEY_BYTES:
            raise PayloadKeyError(f"an encrypted payload names an unknown cipher {cipher!r}")
        key = self.ring.get(kid)
        if key is None:
            known = ", ".join(self.ring.ids) or "none"
            raise PayloadKeyError(
                f"payload sealed with key {kid!r}, which is not configured "
                f"(WUHUAN_PAYLOAD_KEYS or payload.keys holds: {known})"
            )
        if len(key) != KEY_BYTES[cipher]:
            raise PayloadKeyError(
                f"payload key {kid!r} has {len(key)} bytes but the payload was sealed "
                f"with {cipher}, which needs {KEY_BYTES[cipher]}"
            )
        try:
            plain = _open(cipher, key, payload.data, _aad(kid, cipher))
        except InvalidTag:
            raise PayloadDecryptError(
                f"an encrypted payload (key {kid!r}, {cipher}) failed authentication: "
                "it was altered, or the key under that id is not the one that sealed it"
            ) from None
        inner = Payload()
        inner.ParseFromString(plain)
        return inner

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encode_one(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decode_one(p) for p in payloads]
