"""C2SP tlog-proof receipts (https://c2sp.org/tlog-proof, ``c2sp.org/tlog-proof@v1``).

A receipt holds an entry's index, its inclusion proof and the signed
checkpoint the proof leads to, and optional unauthenticated extra data.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from .checkpoint import Checkpoint, open_checkpoint, parse_decimal
from .errors import ProofError
from .merkle import leaf_hash, verify_inclusion
from .note import Verifier, decode_base64

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 64


@dataclass(frozen=True)
class TlogProof:
    """A parsed tlog-proof: entry index, inclusion proof, signed checkpoint note, extra data."""

    index: int
    proof: list[bytes]
    checkpoint_note: str
    extra: bytes | None = None


def format_proof(
    index: int, proof: Sequence[bytes], signed_checkpoint: str, extra: bytes | None = None
) -> str:
    """Return the tlog-proof text of entry ``index`` with ``proof`` and the signed checkpoint."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ProofError(f"tlog-proof index {index!r} is not a non-negative integer")
    if len(proof) > MAX_PROOF_HASHES:
        raise ProofError(f"tlog-proof has {len(proof)} proof hashes, at most {MAX_PROOF_HASHES}")
    for i, h in enumerate(proof):
        if len(h) != 32:
            raise ProofError(f"proof hash {i} is {len(h)} bytes, want 32")
    if not signed_checkpoint.endswith("\n") or "\n\n" not in signed_checkpoint:
        raise ProofError("tlog-proof checkpoint is not a signed note")
    lines = [TLOG_PROOF_HEADER]
    if extra is not None:
        lines.append("extra " + base64.b64encode(extra).decode("ascii"))
    lines.append(f"index {index}")
    lines.extend(base64.b64encode(h).decode("ascii") for h in proof)
    return "\n".join(lines) + "\n\n" + signed_checkpoint


def parse_proof(text: str) -> TlogProof:
    """Parse a tlog-proof strictly; the checkpoint note is returned unverified."""
    if not isinstance(text, str):
        raise ProofError("tlog-proof is not text")
    head, blank, checkpoint_note = text.partition("\n\n")
    if not blank:
        raise ProofError("tlog-proof has no blank line before the checkpoint")
    if checkpoint_note == "":
        raise ProofError("tlog-proof has no checkpoint after its blank line")
    if checkpoint_note.startswith("\n"):
        raise ProofError("tlog-proof has more than one blank line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise ProofError(f"tlog-proof does not start with {TLOG_PROOF_HEADER}")
    pos = 1
    extra = None
    if pos < len(lines) and lines[pos].startswith("extra "):
        extra = decode_base64(lines[pos][len("extra ") :], "tlog-proof extra data", ProofError)
        pos += 1
    if pos >= len(lines) or not lines[pos].startswith("index "):
        raise ProofError(f"tlog-proof line {pos + 1} is not 'index <n>'")
    index = parse_decimal(lines[pos][len("index ") :], "tlog-proof index", ProofError)
    pos += 1
    hashes = lines[pos:]
    if len(hashes) > MAX_PROOF_HASHES:
        raise ProofError(f"tlog-proof has {len(hashes)} proof hashes, at most {MAX_PROOF_HASHES}")
    proof = []
    for i, line in enumerate(hashes):
        h = decode_base64(line, f"proof hash {i}", ProofError)
        if len(h) != 32:
            raise ProofError(f"proof hash {i} is {len(h)} bytes, want 32")
        proof.append(h)
    return TlogProof(index, proof, checkpoint_note, extra)


def verify_proof(
    text: str, entry: bytes, verifier: Verifier, origin: str | None = None
) -> Checkpoint:
    """Check a tlog-proof for ``entry``: the checkpoint's signature and the entry's inclusion."""
    parsed = parse_proof(text)
    cp = open_checkpoint(parsed.checkpoint_note, verifier, origin)
    verify_inclusion(leaf_hash(entry), parsed.index, cp.size, parsed.proof, cp.root)
    return cp
