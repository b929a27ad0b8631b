"""Reasons a person must give are required at the command model, so the CLI, the API, the
page forms and scenario files all refuse an empty or blank one (issue 10: a stop-work was
cleared with "Why it is safe to resume" left empty and recorded ``"note":""``)."""

from __future__ import annotations

from typing import Any

import pytest

from coldset.domain.commands import CommandError, parse_command

BASE = {"production": "dusty-trail", "actor": "hana"}

#: (command, the field that says why) for every command whose reason is required
REQUIRED = [
    ({"type": "clear_stop_work", "stop_work": "sw-4-0"}, "note"),
    ({"type": "release_quarantine", "firearm": "colt-2"}, "note"),
    ({"type": "release_quarantine", "lot": "blank-45"}, "note"),
]


@pytest.mark.parametrize(("cmd", "field"), REQUIRED)
@pytest.mark.parametrize("value", [None, "", "   ", "\t"])
def test_an_empty_or_blank_reason_is_refused(
    cmd: dict[str, Any], field: str, value: str | None
) -> None:
    """Left out, empty, spaces or a tab: the command does not parse, and the error names
    the field."""
    data = {**BASE, **cmd}
    if value is not None:
        data[field] = value
    with pytest.raises(CommandError) as e:
        parse_command(data)
    assert [f for f, _m in e.value.errors] == [field]


@pytest.mark.parametrize(("cmd", "field"), REQUIRED)
def test_a_reason_in_words_is_kept(cmd: dict[str, Any], field: str) -> None:
    """A real reason parses and is kept as typed (trimmed)."""
    parsed = parse_command({**BASE, **cmd, field: "  barrel clear, function check passed "})
    assert getattr(parsed, field) == "barrel clear, function check passed"
