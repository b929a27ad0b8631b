"""A rule handed a command it was not registered for fails loudly with RuleMisapplied (a
real check, not an ``assert`` that ``python -O`` would remove): it never decides on the
wrong command's fields."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from coldset.domain.commands import parse_command
from coldset.domain.model import ProductionSettings
from coldset.domain.rules import REGISTRY, RuleContext, RuleMisapplied, load_rules
from coldset.domain.state import State


def test_every_narrowing_rule_refuses_a_command_of_another_class() -> None:
    load_rules()
    wrong = parse_command({"type": "raise_concern", "production": "p", "actor": "a", "text": "t"})
    ctx = RuleContext(State(), wrong, datetime(2025, 1, 1, tzinfo=UTC), ProductionSettings())
    raised = []
    for rule_id in (
        "no-performer-transfer",
        "single-custody",
        "show-clear-before-issue",
        "performer-trained",
        "safety-meeting",
        "muzzle-plan",
        "load-at-take",
        "barrel-check-before-blanks",
        "scene-bound",
    ):
        with pytest.raises(RuleMisapplied, match=rule_id):
            REGISTRY[rule_id].fn(
                RuleContext(ctx.state, wrong, ctx.now, ctx.settings, rule_id=rule_id)
            )
        raised.append(rule_id)
    assert len(raised) == 9


def test_the_check_survives_python_dash_O() -> None:
    code = (
        "from coldset.domain.rules import REGISTRY, RuleContext, RuleMisapplied, "
        "load_rules\n"
        "from coldset.domain.commands import parse_command\n"
        "from coldset.domain.model import ProductionSettings\n"
        "from coldset.domain.state import State\n"
        "from datetime import datetime, UTC\n"
        "load_rules()\n"
        "c = parse_command({'type': 'raise_concern', 'production': 'p', 'actor': 'a',"
        " 'text': 't'})\n"
        "try:\n"
        "    REGISTRY['scene-bound'].fn(RuleContext(State(), c, datetime.now(UTC), "
        "ProductionSettings(), rule_id='scene-bound'))\n"
        "except RuleMisapplied:\n"
        "    print('refused')\n"
    )
    out = subprocess.run(
        [sys.executable, "-O", "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "refused", out.stderr
