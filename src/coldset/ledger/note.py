"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys (type 0x01).

Key text forms are those of Go's golang.org/x/mod/sumdb/note:

- verifier key: ``<name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>``
- signer key: ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>``
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .errors import LedgerError, NoteError

ALG_ED25519 = 0x01
SIGNER_KEY_PREFIX = "PRIVATE+KEY+"
MAX_NOTE_SIGNATURES = 100

_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def decode_base64(text: str, what: str, error: type[LedgerError] = NoteError) -> bytes:
    """Decode standard padded base64, refusing anything but its one canonical spelling."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise error(f"{what} {_short(text)} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise error(f"{what} {_short(text)} is not canonical base64")
    return raw


def _short(text: str, limit: int = 40) -> str:
    """Quote a piece of input for a one-line message, cut to ``limit`` characters."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def key_name_problem(name: str) -> str | None:
    """Return why ``name`` is not a valid note key name, or None if it is."""
    if not isinstance(name, str) or name == "":
        return "key name is empty"
    if any(ch.isspace() for ch in name):
        return f"key name {_short(name)} contains a space"
    if "+" in name:
        return f"key name {_short(name)} contains '+'"
    if _CONTROL.search(name) or "\x7f" in name:
        return f"key name {_short(name)} contains a control character"
    return None


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """Return the 4-byte key id SHA-256(name || 0x0A || alg || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()[:4]


def _parse_key_body(name: str, id_hex: str, key64: str, kind: str) -> tuple[bytes, bytes]:
    """Check the parts of a key text after the prefix; return (key id, 32-byte key)."""
    problem = key_name_problem(name)
    if problem:
        raise NoteError(f"{kind}: {problem}")
    if not _KEY_ID_HEX.fullmatch(id_hex):
        raise NoteError(f"{kind}: key id {_short(id_hex)} is not 8 lowercase hex digits")
    raw = decode_base64(key64, f"{kind}: key")
    if len(raw) == 0 or raw[0] != ALG_ED25519:
        alg = f"0x{raw[0]:02x}" if raw else "missing"
        raise NoteError(f"{kind}: algorithm byte is {alg}, want 0x01 (Ed25519)")
    if len(raw) != 33:
        raise NoteError(f"{kind}: Ed25519 key is {len(raw) - 1} bytes, want 32")
    return bytes.fromhex(id_hex), raw[1:]


class Verifier:
    """An Ed25519 note verifier key: name, key id and public key."""

    __slots__ = ("name", "key_id", "public_key", "_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        problem = key_name_problem(name)
        if problem:
            raise NoteError(f"verifier key: {problem}")
        if len(public_key) != 32:
            raise NoteError(f"verifier key: Ed25519 key is {len(public_key)} bytes, want 32")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, ALG_ED25519, self.public_key)
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    @classmethod
    def from_text(cls, vkey_text: str) -> Verifier:
        """Parse ``<name>+<8 hex key id>+<base64(0x01 || public key)>`` strictly."""
        if not isinstance(vkey_text, str):
            raise NoteError("verifier key is not text")
        if any(ch.isspace() for ch in vkey_text):
            raise NoteError("verifier key contains white space")
        parts = vkey_text.split("+", 2)
        if len(parts) != 3:
            raise NoteError("verifier key is not of the form <name>+<key id>+<key>")
        name, id_hex, key64 = parts
        want_id, public_key = _parse_key_body(name, id_hex, key64, "verifier key")
        verifier = cls(name, public_key)
        if verifier.key_id != want_id:
            raise NoteError(
                f"verifier key: key id {id_hex} does not match the key ({verifier.key_id.hex()})"
            )
        return verifier

    def to_text(self) -> str:
        """Return the verifier key text form."""
        key64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{key64}"

    def verify(self, message: bytes, sig: bytes) -> bool:
        """Return whether ``sig`` is this key's Ed25519 signature of ``message``."""
        if len(sig) != 64:
            return False
        try:
            self._key.verify(bytes(sig), bytes(message))
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verifier):
            return NotImplemented
        return (self.name, self.public_key) == (other.name, other.public_key)

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"Verifier({self.to_text()!r})"


class Signer:
    """An Ed25519 note signer key; its text form holds the private seed."""

    __slots__ = ("name", "key_id", "public_key", "_key")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        problem = key_name_problem(name)
        if problem:
            raise NoteError(f"signer key: {problem}")
        self.name = name
        self._key = private_key
        # The long forms rather than *_raw(): the standalone verifier may meet an old cryptography.
        self.public_key = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(name, ALG_ED25519, self.public_key)

    @classmethod
    def generate(cls, name: str) -> Signer:
        """Return a new signer with a fresh random Ed25519 key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        """Return the signer of a 32-byte Ed25519 seed."""
        if len(seed) != 32:
            raise NoteError(f"signer key: Ed25519 seed is {len(seed)} bytes, want 32")
        return cls(name, Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    @classmethod
    def from_text(cls, private_key_text: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || seed)>`` strictly."""
        if not isinstance(private_key_text, str):
            raise NoteError("signer key is not text")
        if any(ch.isspace() for ch in private_key_text):
            raise NoteError("signer key contains white space")
        text = private_key_text
        if not text.startswith(SIGNER_KEY_PREFIX):
            raise NoteError("signer key does not start with PRIVATE+KEY+")
        parts = text[len(SIGNER_KEY_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise NoteError("signer key is not of the form PRIVATE+KEY+<name>+<key id>+<key>")
        name, id_hex, key64 = parts
        want_id, seed = _parse_key_body(name, id_hex, key64, "signer key")
        signer = cls.from_seed(name, seed)
        if signer.key_id != want_id:
            raise NoteError(
                f"signer key: key id {id_hex} does not match the key ({signer.key_id.hex()})"
            )
        return signer

    def to_text(self) -> str:
        """Return the private key text form (secret: store it with mode 0600)."""
        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        key64 = base64.b64encode(bytes([ALG_ED25519]) + seed).decode("ascii")
        return f"{SIGNER_KEY_PREFIX}{self.name}+{self.key_id.hex()}+{key64}"

    @property
    def verifier_text(self) -> str:
        """The public verifier key text form of this signer."""
        return self.verifier().to_text()

    def verifier(self) -> Verifier:
        """Return the verifier of this signer."""
        return Verifier(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Return the raw 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(bytes(message))

    def __repr__(self) -> str:
        return f"Signer({self.name}+{self.key_id.hex()})"


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: key name, 4-byte key id and the signature bytes."""

    name: str
    key_id: bytes
    sig: bytes

    def to_line(self) -> str:
        """Return the signature line, newline included."""
        return f"\u2014 {self.name} {base64.b64encode(self.key_id + self.sig).decode('ascii')}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, every signature line, and those verified by a known key."""

    text: str
    signatures: list[Signature] = field(default_factory=list)
    verified: list[Signature] = field(default_factory=list)


def _check_note_text(text: str) -> None:
    if not isinstance(text, str):
        raise NoteError("note text is not a string")
    if not text.endswith("\n"):
        raise NoteError("note text does not end with a newline")
    match = _CONTROL.search(text)
    if match:
        raise NoteError(f"note text contains control character {match.group()!r}")
    if not text.isascii() and _SURROGATE.search(text):
        raise NoteError("note text is not valid UTF-8 (lone surrogate)")


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Return ``text`` as a signed note with one signature line per signer."""
    _check_note_text(text)
    if not signers:
        raise NoteError("no signer given for the note")
    message = text.encode("utf-8")
    lines = [Signature(s.name, s.key_id, s.sign(message)).to_line() for s in signers]
    return text + "\n" + "".join(lines)


def _parse_signature_line(line: str, number: int) -> Signature:
    if not line.startswith("\u2014 "):
        raise NoteError(f"note signature line {number} does not start with an em dash and a space")
    name, space, sig64 = line[2:].partition(" ")
    if not space:
        raise NoteError(f"note signature line {number} has no space between name and signature")
    problem = key_name_problem(name)
    if problem:
        raise NoteError(f"note signature line {number}: {problem}")
    raw = decode_base64(sig64, f"note signature line {number}: signature")
    if len(raw) < 5:
        raise NoteError(f"note signature line {number}: signature is {len(raw)} bytes, want > 4")
    return Signature(name, raw[:4], raw[4:])


def split_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signatures, checking only the form."""
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8") from None
    if not isinstance(note, str):
        raise NoteError("note is not text")
    match = _CONTROL.search(note)
    if match:
        raise NoteError(f"note contains control character {match.group()!r}")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in note):
        raise NoteError("note is not valid UTF-8 (lone surrogate)")
    if not note.endswith("\n"):
        raise NoteError("note does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines after its last blank line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_NOTE_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures, at most {MAX_NOTE_SIGNATURES}")
    signatures: list[Signature] = []
    for number, line in enumerate(lines, start=1):
        signature = _parse_signature_line(line, number)
        if signature not in signatures:
            signatures.append(signature)
    return text, signatures


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> Note:
    """Parse a signed note and verify it: every known key's signature must be good, one at least."""
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    message = text.encode("utf-8")
    verified: list[Signature] = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, signature.sig):
            raise NoteError(f"bad signature by {signature.name}+{signature.key_id.hex()}")
        if all((s.name, s.key_id) != (signature.name, signature.key_id) for s in verified):
            verified.append(signature)
    if not verified:
        wanted = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers) or "none given"
        raise NoteError(f"no signature from a known key ({wanted})")
    return Note(text, signatures, verified)
