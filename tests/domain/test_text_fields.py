"""What text a command field accepts: one rule (coldset.text), used by every text field.

The database half (the same answer on SQLite and PostgreSQL) is in
tests/store_contract/test_text_input.py; this is the parse-time half, no database.
"""

from __future__ import annotations

import typing
import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from coldset.domain import commands as c
from coldset.domain.commands import CommandError, parse_command
from coldset.text import TextError, clean_text

BASE = {"production": "dusty-trail", "actor": "maria"}


def _bad(cmd: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(CommandError) as e:
        parse_command({**BASE, **cmd})
    return e.value.errors


def _str_leaves(annotation: Any, metadata: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The metadata of every ``str`` inside a field's annotation (through unions, lists,
    dicts, Annotated)."""
    origin = typing.get_origin(annotation)
    if annotation is str:
        return [metadata]
    if origin is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        return _str_leaves(base, (*metadata, *meta))
    if origin is typing.Literal:
        return []
    out: list[tuple[Any, ...]] = []
    for arg in typing.get_args(annotation):
        out += _str_leaves(arg)
    return out


def _models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo: list[type[BaseModel]] = [
        *c.COMMAND_TYPES.values(),
        c.Confirmation,
        c.OverrideRequest,
        c.ShotIn,
        c.PlanFirearmIn,
    ]
    for m in todo:
        if m not in seen:
            seen.append(m)
    return seen


def test_every_text_field_of_every_command_uses_the_one_rule() -> None:
    """No command field (nested models, list items and dict keys included) is a bare str:
    each uses one of the text types, which all run coldset.text.clean_text first."""
    checks = {c._LINE, c._LINES}
    missing = []
    for model in _models():
        for name, info in model.model_fields.items():
            if name == "type":
                continue
            leaves = (
                _str_leaves(info.annotation, tuple(info.metadata))
                if info.annotation is not str
                else [tuple(info.metadata)]
            )
            for meta in leaves:
                if not any(m in checks for m in meta):
                    missing.append(f"{model.__name__}.{name}")
    assert not missing, missing


@pytest.mark.parametrize(
    "ch",
    [chr(n) for n in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(n) not in "\t\n\r"]
    + ["\ud800", "\udfff"],
)
def test_no_control_character_or_surrogate_anywhere(ch: str) -> None:
    """Every C0 and C1 control, DEL and a lone surrogate is refused inside a name, a short
    text, an id, a PIN and free text, with a plain reason naming the character."""
    errors = dict(
        _bad(
            {"type": "add_person", "person": f"al{ch}ec", "name": f"Alec{ch}B", "pin": f"12{ch}34"}
        )
    )
    assert set(errors) == {"person", "name", "pin"}
    errors |= dict(
        _bad({"type": "report_incident", "kind": "misfire", "description": f"click{ch}no bang"})
    )
    errors |= dict(
        _bad(
            {
                "type": "add_set",
                "set": "barn",
                "unit": "main",
                "name": "Barn",
                "location": f"Ranch{ch}",
            }
        )
    )
    for field, msg in errors.items():
        assert f"U+{ord(ch):04X}" in msg, field
        assert "control characters" in msg or "single line" in msg or "valid Unicode" in msg, (
            field,
            msg,
        )


@pytest.mark.parametrize("ch", ["\n", "\t", "\r", "\u2028", "\u2029", "\x85", "\x0b"])
def test_single_line_fields_take_no_line_break_or_tab(ch: str) -> None:
    """A name, an id or a short text is one line: a line break or tab inside is refused
    ("must be a single line"), where free text keeps line breaks and tabs."""
    errors = dict(_bad({"type": "add_unit", "unit": "third", "name": f"Third{ch}unit"}))
    assert "single line" in errors["name"] or "control characters" in errors["name"]
    if ch in "\n\t\r\u2028\u2029":
        cmd = parse_command({**BASE, "type": "call_stop_work", "reason": f"Smoke{ch}fire"})
        assert isinstance(cmd, c.CallStopWork) and "\r" not in cmd.reason


def test_what_is_kept() -> None:
    """Ends stripped (spaces, tabs, line breaks), CRLF and CR as LF in free text, NFC, and
    the length checked on what is kept."""
    cmd = parse_command({**BASE, "type": "add_unit", "unit": " third\n", "name": "\tCafe\u0301 "})
    assert isinstance(cmd, c.AddUnit)
    assert (cmd.unit, cmd.name) == ("third", "Caf\u00e9")
    cmd = parse_command(
        {
            **BASE,
            "type": "raise_concern",
            "actor": "anonymous",
            "text": "one\r\ntwo\rthree\n\tfour\r\n",
        }
    )
    assert isinstance(cmd, c.RaiseConcern) and cmd.text == "one\ntwo\nthree\n\tfour"
    # 2,000 combining sequences that NFC makes 2,000 characters are within the limit
    assert (
        len(parse_command({**BASE, "type": "add_unit", "unit": "u", "name": "e\u0301" * 2000}).name)
        == 2000
    )  # type: ignore[attr-defined]
    assert (
        "at most 2000" in dict(_bad({"type": "add_unit", "unit": "u", "name": "x" * 2001}))["name"]
    )
    assert dict(_bad({"type": "add_unit", "unit": "u", "name": " \n "}))["name"]


def test_idempotency_key_and_withdraw_reason_follow_the_rule() -> None:
    """The two fields that had their own inline types use the rule too."""
    errors = dict(_bad({"type": "add_unit", "unit": "u", "name": "U", "idempotency_key": "k\x00"}))
    assert "control characters" in errors["idempotency_key"]
    errors = dict(
        _bad(
            {
                "type": "withdraw_consent",
                "performer": "alec",
                "weapon_type": "single_action_revolver",
                "reason": "no\x00",
            }
        )
    )
    assert "control characters" in errors["reason"]


def test_field_names_that_cannot_be_shown_are_escaped() -> None:
    """An unknown field named with a lone surrogate or a NUL is reported under an escaped
    name (so the answer can be encoded), and a non-text type is an unknown type."""
    errors = _bad({"type": "add_unit", "unit": "u", "name": "U", "\ud800": 1})
    assert errors == [("\\ud800", "field names must be valid Unicode text")]
    errors = _bad({"type": "add_unit", "unit": "u", "name": "U", "a\x00": 1})
    assert errors == [("a\\x00", "unknown field (not part of this command)")]
    errors = _bad({"type": "lock_container", "container": "safe", "rounds": {"\udc80": 1}})
    assert errors == [("rounds.\\udc80", "field names must be valid Unicode text")]
    assert _bad({"type": ["issue"]})[0][0] == "type"


@given(st.text(st.characters(codec=None, exclude_categories=())), st.booleans())
def test_clean_text_keeps_only_storable_text(value: str, multiline: bool) -> None:
    """For any string: clean_text refuses it (TextError) or returns text with no NUL, no
    control character but (in free text) line break and tab, no surrogate, valid UTF-8,
    NFC, with no space or line break at the ends; and cleaning it again changes nothing."""
    try:
        kept = clean_text(value, multiline=multiline)
    except TextError as e:
        assert e.message and e.code.startswith("text_")
        return
    kept.encode("utf-8")
    allowed = {"\n", "\t"} if multiline else set()
    assert not any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in kept)
    assert unicodedata.is_normalized("NFC", kept)
    assert kept == kept.strip(" \t\n\r")
    assert clean_text(kept, multiline=multiline) == kept
