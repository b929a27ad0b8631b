"""C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint): format and strict parse."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from .errors import CheckpointError, LedgerError
from .note import Signer, Verifier, decode_base64, open_note, sign_note

MAX_TREE_SIZE = 2**64 - 1

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CHECKPOINT_CONTROL = re.compile(r"[\x00-\x1f]")


def parse_decimal(text: str, what: str, error: type[LedgerError] = CheckpointError) -> int:
    """Parse an ASCII decimal without sign or leading zeros, at most 2**64 - 1."""
    shown = repr(text if len(text) <= 30 else text[:30] + "...")
    if not _DECIMAL.fullmatch(text):
        if text[:1] in ("+", "-") or (text[:1] == "0" and text[1:].isdigit()):
            raise error(f"{what} {shown} is not a plain decimal (sign or leading zero)")
        raise error(f"{what} {shown} is not a number")
    if len(text) > 20 or int(text) > MAX_TREE_SIZE:
        raise error(f"{what} {shown} is too large")
    return int(text)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, tree size, RFC 6962 root hash and optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or self.origin == "":
            raise CheckpointError("checkpoint origin is empty")
        if _CHECKPOINT_CONTROL.search(self.origin):
            raise CheckpointError(f"checkpoint origin {self.origin!r} contains a control character")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointError(f"checkpoint tree size {self.size!r} is not an integer")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"checkpoint tree size {self.size} is out of range")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            length = len(self.root) if isinstance(self.root, bytes) else type(self.root).__name__
            raise CheckpointError(f"checkpoint root hash is {length} bytes, want 32")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for number, line in enumerate(self.extensions, start=4):
            if not isinstance(line, str) or line == "":
                raise CheckpointError(f"checkpoint extension line {number} is empty")
            if _CHECKPOINT_CONTROL.search(line):
                raise CheckpointError(
                    f"checkpoint extension line {number} contains a control character"
                )

    def to_text(self) -> str:
        """Return the note text: origin, size and base64 root lines, then any extensions."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        lines.extend(self.extensions)
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text strictly."""
        if not isinstance(text, str):
            raise CheckpointError("checkpoint is not text")
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"checkpoint has {len(lines)} lines, want at least 3")
        origin, size_text, root_text, *extensions = lines
        if origin == "":
            raise CheckpointError("checkpoint origin is empty")
        size = parse_decimal(size_text, "checkpoint tree size")
        root = decode_base64(root_text, "checkpoint root hash", CheckpointError)
        if len(root) != 32:
            raise CheckpointError(f"checkpoint root hash is {len(root)} bytes, want 32")
        for number, line in enumerate(extensions, start=4):
            if line == "":
                raise CheckpointError(f"checkpoint line {number} is empty")
        return cls(origin, size, root, tuple(extensions))


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> str:
    """Return the checkpoint as a note signed by ``signer``."""
    return sign_note(cp.to_text(), [signer])


def open_checkpoint(note_text: str, verifier: Verifier, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint by ``verifier`` and return it; check its origin if given."""
    note = open_note(note_text, [verifier])
    cp = Checkpoint.parse(note.text)
    if origin is not None and cp.origin != origin:
        raise CheckpointError(f"checkpoint origin {cp.origin!r} is not the expected {origin!r}")
    return cp
