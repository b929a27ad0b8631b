"""C2SP signed notes, Ed25519 keys and their text forms."""

from __future__ import annotations

import base64

import pytest

from coldset.ledger.errors import NoteError
from coldset.ledger.note import (
    Signature,
    Signer,
    Verifier,
    key_id,
    open_note,
    sign_note,
    split_note,
)

# The worked example of c2sp.org/signed-note ("Verifier keys" section of the
# current spec; the stored copy of the spec predates it, so these strings are
# checked below by their own signature and key id).
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFX"
    "mRKuwHjG1Yu72IneyaQM=\n"
)

# The example keys of Go's golang.org/x/mod/sumdb/note package documentation.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfq"
    "dngotpRZb6KE6RyyBwJnAM=\n"
)


def _one_line_error(excinfo: pytest.ExceptionInfo[NoteError]) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


def test_spec_example_verifies() -> None:
    """The signed-note spec's example note opens with the example key, whose id is 0x530d903a."""
    verifier = Verifier.from_text(SPEC_VKEY)
    assert verifier.name == "example.com/foo"
    assert verifier.key_id == bytes.fromhex("530d903a")
    assert key_id("example.com/foo", 0x01, verifier.public_key) == bytes.fromhex("530d903a")
    note = open_note(SPEC_NOTE, [verifier])
    assert note.text == "This is an example message.\n"
    assert [(s.name, s.key_id.hex()) for s in note.verified] == [("example.com/foo", "530d903a")]
    assert verifier.to_text() == SPEC_VKEY


def test_go_signer_key_signs_the_go_example_byte_for_byte() -> None:
    """Go's example private key parses, gives Go's verifier key, and signs Go's note exactly."""
    signer = Signer.from_text(GO_SKEY)
    assert signer.to_text() == GO_SKEY
    assert signer.verifier_text == GO_VKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE
    assert open_note(GO_NOTE, [Verifier.from_text(GO_VKEY)]).text == GO_TEXT


def test_sign_open_round_trip_with_two_signers() -> None:
    """A note signed by two keys opens with either, and lists both signatures."""
    a, b = Signer.generate("coldset.example/a"), Signer.generate("coldset.example/b")
    text = "line one\n\nline three after an empty line\n"
    note = sign_note(text, [a, b])
    opened = open_note(note, [Verifier.from_text(b.verifier_text)])
    assert opened.text == text
    assert [s.name for s in opened.signatures] == [a.name, b.name]
    assert [s.name for s in opened.verified] == [b.name]
    assert Signer.from_text(a.to_text()).verifier_text == a.verifier_text
    assert open_note(note.encode("utf-8"), [a.verifier()]).text == text


def test_tampered_text_or_signature_is_a_bad_signature() -> None:
    """Changing the text or a signature byte makes opening fail with 'bad signature by ...'."""
    signer = Signer.generate("coldset.example")
    note = sign_note("size 5\n", [signer])
    with pytest.raises(NoteError) as info:
        open_note(note.replace("size 5", "size 6"), [signer.verifier()])
    assert _one_line_error(info) == f"bad signature by coldset.example+{signer.key_id.hex()}"
    text, (sig,) = split_note(note)
    raw = bytearray(sig.sig)
    raw[10] ^= 0x01
    forged = text + "\n" + Signature(sig.name, sig.key_id, bytes(raw)).to_line()
    with pytest.raises(NoteError, match="bad signature by coldset.example"):
        open_note(forged, [signer.verifier()])


def test_unknown_key_is_kept_but_not_trusted() -> None:
    """A note signed only by unknown keys is refused; unknown ones beside a known one are kept."""
    known, other = Signer.generate("coldset.example"), Signer.generate("coldset.example")
    note = sign_note("hello\n", [other])
    with pytest.raises(NoteError) as info:
        open_note(note, [known.verifier()])
    assert _one_line_error(info).startswith("no signature from a known key (coldset.example+")
    both = sign_note("hello\n", [other, known])
    opened = open_note(both, [known.verifier()])
    assert len(opened.signatures) == 2
    assert [s.key_id for s in opened.verified] == [known.key_id]


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "lowercase hex"),
        ("example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "lowercase hex"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "not base64"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2!", "not base64"),
        ("example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "algorithm byte"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv", "want 32"),
        ("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"),
        ("example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"),
        ("example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "white space"),
        ("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "key name is empty"),
        ("example.com/foo+530d903a", "not of the form"),
        (SPEC_VKEY + "\n", "white space"),
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str, message: str) -> None:
    """Each malformed verifier key text raises NoteError with a one-line message naming it."""
    with pytest.raises(NoteError) as info:
        Verifier.from_text(vkey)
    assert message in _one_line_error(info)


@pytest.mark.parametrize(
    ("skey", "message"),
    [
        (GO_SKEY.replace("PRIVATE+KEY+", "PRIVATE+"), "PRIVATE+KEY+"),
        (GO_SKEY.replace("c74f20a3", "c74f20a4"), "does not match"),
        (GO_SKEY.replace("+AYEK", "+AoEK"), "algorithm byte"),
        (GO_SKEY[:-4], "want 32"),
    ],
)
def test_malformed_signer_keys_are_refused(skey: str, message: str) -> None:
    """Each malformed private key text raises NoteError with a one-line message naming the fault."""
    with pytest.raises(NoteError) as info:
        Signer.from_text(skey)
    assert message in _one_line_error(info)


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("text\n\u2014 a AAAA\n", "no blank line"),
        ("text\n\n", "no signature lines"),
        ("text\n\n- a AAAAAQ==\n", "em dash"),
        ("text\n\n\u2014 a+b AAAAAQ==\n", "contains '+'"),
        ("text\n\n\u2014 a AAAA\n", "want > 4"),
        ("text\n\n\u2014 a AAAAAQ\n", "not base64"),
        ("text\n\n\u2014 a AAAAAR==\n", "not canonical base64"),
        ("text\n\n\u2014 aAAAAAQ==\n", "no space"),
        ("te\txt\n\n\u2014 a AAAAAQ==\n", "control character"),
        ("text\n\n\u2014 a AAAAAQ==", "end with a newline"),
    ],
)
def test_malformed_notes_are_refused(note: str, message: str) -> None:
    """Each malformed signed note raises NoteError with a one-line message naming the fault."""
    with pytest.raises(NoteError) as info:
        open_note(note, [Verifier.from_text(SPEC_VKEY)])
    assert message in _one_line_error(info)


def test_sign_note_refuses_bad_text_and_no_signers() -> None:
    """Signing refuses text without a final newline, with control characters, or no signer."""
    signer = Signer.generate("coldset.example")
    for text, message in [("no newline", "newline"), ("a\rb\n", "control"), ("\ud800\n", "UTF-8")]:
        with pytest.raises(NoteError, match=message):
            sign_note(text, [signer])
    with pytest.raises(NoteError, match="no signer"):
        sign_note("ok\n", [])


def test_key_names_follow_the_spec() -> None:
    """Key names must be non-empty and contain no spaces or '+'."""
    for name in ["", "a b", "a+b", "a\u00a0b"]:
        with pytest.raises(NoteError):
            Signer.generate(name)


def test_signature_bytes_are_key_id_then_ed25519() -> None:
    """A signature line holds base64 of the 4-byte key id followed by the 64-byte signature."""
    signer = Signer.generate("coldset.example")
    note = sign_note("x\n", [signer])
    sig64 = note.rsplit(" ", 1)[1].rstrip("\n")
    raw = base64.b64decode(sig64)
    assert raw[:4] == signer.key_id
    assert len(raw) == 68
    assert signer.verifier().verify(b"x\n", raw[4:])
    assert not signer.verifier().verify(b"y\n", raw[4:])
