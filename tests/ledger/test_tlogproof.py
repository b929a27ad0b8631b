"""C2SP tlog-proof receipts: format, strict parse and verification of one entry."""

from __future__ import annotations

import base64

import pytest

from coldset.ledger.checkpoint import Checkpoint, sign_checkpoint
from coldset.ledger.errors import CheckpointError, LedgerError, NoteError, ProofError
from coldset.ledger.merkle import MemoryTree
from coldset.ledger.note import Signer
from coldset.ledger.tlogproof import format_proof, parse_proof, verify_proof

ORIGIN = "coldset.example/film"
ENTRIES = [b'{"seq":%d}' % i for i in range(11)]
SIGNER = Signer.generate("coldset.example")
TREE = MemoryTree()
for _entry in ENTRIES:
    TREE.append_entry(_entry)
CHECKPOINT = Checkpoint(ORIGIN, TREE.size, TREE.root())
NOTE = sign_checkpoint(CHECKPOINT, SIGNER)


def _receipt(index: int = 6, extra: bytes | None = None) -> str:
    return format_proof(index, TREE.inclusion_proof(index), NOTE, extra)


def _message(excinfo: pytest.ExceptionInfo[LedgerError]) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


def test_format_follows_the_spec_layout() -> None:
    """A receipt is the header, optional extra, index, one hash per line, a blank line, the note."""
    proof = TREE.inclusion_proof(6)
    text = _receipt(6, extra=b"ctx")
    lines = text.split("\n")
    assert lines[:3] == ["c2sp.org/tlog-proof@v1", "extra Y3R4", "index 6"]
    assert lines[3 : 3 + len(proof)] == [base64.b64encode(h).decode() for h in proof]
    assert text.endswith("\n\n" + NOTE)
    assert "extra" not in _receipt(6)


@pytest.mark.parametrize("index", range(len(ENTRIES)))
def test_every_entry_round_trips_and_verifies(index: int) -> None:
    """Each entry's receipt parses back to its parts and verifies against the signed checkpoint."""
    text = _receipt(index, extra=b"x" if index % 2 else None)
    parsed = parse_proof(text)
    assert parsed.index == index
    assert parsed.proof == TREE.inclusion_proof(index)
    assert parsed.checkpoint_note == NOTE
    assert parsed.extra == (b"x" if index % 2 else None)
    assert verify_proof(text, ENTRIES[index], SIGNER.verifier(), origin=ORIGIN) == CHECKPOINT


def test_wrong_entry_or_tampered_proof_fails_inclusion() -> None:
    """Another entry's bytes, or a changed proof hash, fail with a one-line ProofError."""
    text = _receipt(6)
    with pytest.raises(ProofError) as info:
        verify_proof(text, ENTRIES[5], SIGNER.verifier())
    assert "does not lead to the root" in _message(info)
    first = base64.b64encode(TREE.inclusion_proof(6)[0]).decode()
    changed = base64.b64encode(b"\x00" * 32).decode()
    with pytest.raises(ProofError):
        verify_proof(text.replace(first, changed), ENTRIES[6], SIGNER.verifier())
    with pytest.raises(ProofError, match="outside a tree of size 11"):
        verify_proof(text.replace("index 6", "index 11"), ENTRIES[6], SIGNER.verifier())


def test_checkpoint_signature_and_origin_are_checked() -> None:
    """A receipt with a bad signature, an unknown key or another origin is refused."""
    text = _receipt(3)
    with pytest.raises(NoteError) as info:
        verify_proof(text.replace("\n11\n", "\n12\n"), ENTRIES[3], SIGNER.verifier())
    assert _message(info).startswith("bad signature by coldset.example+")
    with pytest.raises(NoteError, match="no signature from a known key"):
        verify_proof(text, ENTRIES[3], Signer.generate("coldset.example").verifier())
    with pytest.raises(CheckpointError, match="not the expected"):
        verify_proof(text, ENTRIES[3], SIGNER.verifier(), origin="coldset.example/other")


HASH = base64.b64encode(b"\x01" * 32).decode()
SHORT = base64.b64encode(b"\x01" * 31).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("c2sp.org/tlog-proof@v2\nindex 0\n\n" + NOTE, "does not start with"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n", "no blank line"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n" + NOTE, "proof hash 0 'coldset.example/film' is not"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n\n", "no checkpoint"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n\n\n" + NOTE, "more than one blank line"),
        ("c2sp.org/tlog-proof@v1\n\n" + NOTE, "line 2 is not 'index <n>'"),
        ("c2sp.org/tlog-proof@v1\nindex abc\n\n" + NOTE, "tlog-proof index 'abc' is not a number"),
        ("c2sp.org/tlog-proof@v1\nindex 007\n\n" + NOTE, "leading zero"),
        ("c2sp.org/tlog-proof@v1\nindex -1\n\n" + NOTE, "sign or leading zero"),
        ("c2sp.org/tlog-proof@v1\nindex  1\n\n" + NOTE, "is not a number"),
        ("c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\n" + NOTE, "extra data '!!' is not base64"),
        ("c2sp.org/tlog-proof@v1\nindex 1\nextra AA==\n\n" + NOTE, "proof hash 0"),
        (f"c2sp.org/tlog-proof@v1\nindex 1\n{HASH}\n{SHORT}\n\n" + NOTE, "proof hash 1 is 31"),
        ("c2sp.org/tlog-proof@v1\nindex 1\n" + f"{HASH}\n" * 65 + "\n" + NOTE, "at most 64"),
    ],
)
def test_malformed_receipts_are_refused(text: str, message: str) -> None:
    """Each malformed receipt raises ProofError with a one-line message naming the fault."""
    with pytest.raises(ProofError) as info:
        parse_proof(text)
    assert message in _message(info)


def test_format_refuses_bad_parts() -> None:
    """format_proof refuses a negative index, a wrong-length hash and a checkpoint not signed."""
    proof = TREE.inclusion_proof(2)
    with pytest.raises(ProofError, match="non-negative"):
        format_proof(-1, proof, NOTE)
    with pytest.raises(ProofError, match="proof hash 0 is 31 bytes"):
        format_proof(2, [proof[0][:31], *proof[1:]], NOTE)
    with pytest.raises(ProofError, match="not a signed note"):
        format_proof(2, proof, CHECKPOINT.to_text())
