"""C2SP tlog-checkpoint bodies: format, strict parse, and signed checkpoints."""

from __future__ import annotations

import base64

import pytest

from coldset.ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from coldset.ledger.errors import CheckpointError, LedgerError, NoteError
from coldset.ledger.merkle import root_of
from coldset.ledger.note import Signer

ROOT = root_of([b"\x07" * 32])
ROOT64 = base64.b64encode(ROOT).decode()
SIGNER_NAME = "coldset.example"


def _message(excinfo: pytest.ExceptionInfo[LedgerError]) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


def test_spec_example_body_round_trips() -> None:
    """The tlog-checkpoint spec's example body parses and formats back byte for byte."""
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = Checkpoint.parse(text)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert cp.to_text() == text


def test_extension_lines_round_trip() -> None:
    """Extension lines after the root are kept in order and formatted back."""
    cp = Checkpoint("coldset.example/film", 0, ROOT, ("ext one", "ext two"))
    assert cp.to_text() == f"coldset.example/film\n0\n{ROOT64}\next one\next two\n"
    assert Checkpoint.parse(cp.to_text()) == cp


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"o\nabc\n{ROOT64}\n", "checkpoint tree size 'abc' is not a number"),
        (f"o\n-1\n{ROOT64}\n", "sign or leading zero"),
        (f"o\n+1\n{ROOT64}\n", "sign or leading zero"),
        (f"o\n01\n{ROOT64}\n", "sign or leading zero"),
        (f"o\n\u0661\n{ROOT64}\n", "is not a number"),
        (f"o\n{2**64}\n{ROOT64}\n", "too large"),
        (f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n", "root hash is 31 bytes, want 32"),
        ("o\n1\nnot base64!\n", "is not base64"),
        (f"\n1\n{ROOT64}\n", "origin is empty"),
        (f"o\n1\n{ROOT64}", "does not end with a newline"),
        ("o\n1\n", "has 2 lines, want at least 3"),
        (f"o\n1\n{ROOT64}\n\n", "line 4 is empty"),
        (f"o\n1\n{ROOT64}\next\n\nmore\n", "line 5 is empty"),
    ],
)
def test_malformed_checkpoints_are_refused(text: str, message: str) -> None:
    """Each malformed checkpoint body raises CheckpointError with a one-line message naming it."""
    with pytest.raises(CheckpointError) as info:
        Checkpoint.parse(text)
    assert message in _message(info)


def test_checkpoint_values_are_checked_on_construction() -> None:
    """A Checkpoint cannot be built with an empty origin, bad size, short root or empty line."""
    for args in [
        ("", 1, ROOT),
        ("o\nx", 1, ROOT),
        ("o", -1, ROOT),
        ("o", True, ROOT),
        ("o", 1, ROOT[:31]),
        ("o", 1, ROOT, ("",)),
    ]:
        with pytest.raises(CheckpointError):
            Checkpoint(*args)


def test_signed_checkpoint_round_trip() -> None:
    """A signed checkpoint opens with its verifier and the expected origin."""
    signer = Signer.generate(SIGNER_NAME)
    cp = Checkpoint("coldset.example/film", 42, ROOT)
    note = sign_checkpoint(cp, signer)
    assert note.startswith(cp.to_text() + "\n\u2014 coldset.example ")
    assert open_checkpoint(note, signer.verifier()) == cp
    assert open_checkpoint(note, signer.verifier(), origin="coldset.example/film") == cp


def test_signed_checkpoint_failures_are_named() -> None:
    """Wrong origin, bad signature, unknown key and a missing blank line each give a clear error."""
    signer, stranger = Signer.generate(SIGNER_NAME), Signer.generate(SIGNER_NAME)
    note = sign_checkpoint(Checkpoint("coldset.example/film", 42, ROOT), signer)
    with pytest.raises(CheckpointError) as info:
        open_checkpoint(note, signer.verifier(), origin="coldset.example/other")
    assert "origin 'coldset.example/film' is not the expected" in _message(info)
    with pytest.raises(NoteError) as info:
        open_checkpoint(note.replace("\n42\n", "\n43\n"), signer.verifier())
    assert _message(info).startswith("bad signature by coldset.example+")
    with pytest.raises(NoteError) as info:
        open_checkpoint(note, stranger.verifier())
    assert _message(info).startswith("no signature from a known key")
    with pytest.raises(NoteError) as info:
        open_checkpoint(note.replace("\n\n", "\n"), signer.verifier())
    assert "no blank line" in _message(info)
