"""docs/rules.md cannot drift from the rule code (and the code not from the catalogue)."""

from __future__ import annotations

import importlib.util
import inspect
import re
from dataclasses import fields
from pathlib import Path
from types import FunctionType

import pytest

from coldset.domain.model import ProductionSettings
from coldset.domain.rules import REGISTRY, RULE_IDS, Rule, load_rules

DOC = Path(__file__).resolve().parents[3] / "docs" / "rules.md"

#: The ids of the catalogue (shared/SAFETY_RULES.md), by section, in catalogue order,
#: with the module of src/coldset/domain/rules/ that implements each section.
CATALOGUE: dict[str, tuple[str, ...]] = {
    "ammunition": ("no-live-ammo", "dummy-verified", "round-accounting", "ammo-secured"),
    "custody": (
        "armorer-only-handoff",
        "no-performer-transfer",
        "single-custody",
        "show-clear-before-issue",
        "recheck-after-break",
        "collect-after-take",
        "scene-bound",
    ),
    "people": ("performer-trained", "handler-credentials", "armorer-dedicated", "handler-present"),
    "scenes": ("safety-meeting", "muzzle-plan", "blank-distance", "load-at-take"),
    "incidents": (
        "misfire-quarantine",
        "unplanned-discharge",
        "barrel-check-before-blanks",
        "concern-answered",
        "stop-work",
    ),
}
ALL_IDS = tuple(i for ids in CATALOGUE.values() for i in ids)

#: what a verdict helper in a rule's code must be matched by in its "Verdict:" line
VERDICT_WORDS = {
    "ctx.block(": "block",
    "ctx.block_overridable(": "overridable",
    "ctx.alert(": "alert",
    "ctx.stop_work(": "stop-work",
}


def doc_sections() -> dict[str, str]:
    """rule id -> its section of docs/rules.md (from its ``### `id``` heading to the next)."""
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### `([a-z0-9-]+)`\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def field_line(section: str, name: str) -> str:
    m = re.search(rf"^- \*\*{name}:\*\* (.*)$", section, flags=re.MULTILINE)
    assert m, f"no '{name}:' line"
    return m.group(1)


def command_name(cls: type) -> str:
    return cls.model_fields["type"].annotation.__args__[0]  # type: ignore[attr-defined, no-any-return]


def rule_source(r: Rule) -> str:
    """The rule function's code and that of the module functions it calls, transitively."""
    seen: set[str] = set()
    out: list[str] = []

    def visit(fn: FunctionType) -> None:
        if fn.__qualname__ in seen:
            return
        seen.add(fn.__qualname__)
        out.append(inspect.getsource(fn))
        for name in fn.__code__.co_names:
            g = fn.__globals__.get(name)
            if isinstance(g, FunctionType) and g.__module__ == fn.__module__:
                visit(g)

    visit(r.fn)  # type: ignore[arg-type]
    return "\n".join(out)


def implemented() -> dict[str, Rule]:
    """Every registered rule, after importing every module of the rules package."""
    load_rules()
    return {i: REGISTRY[i] for i in REGISTRY}


def test_rule_ids_match_the_catalogue() -> None:
    """RULE_IDS is exactly the catalogue's 24 ids, in catalogue order."""
    assert RULE_IDS == ALL_IDS


def test_docs_list_exactly_the_catalogue() -> None:
    """Every rule id of the code is documented, and every documented id is in the code."""
    assert tuple(doc_sections()) == RULE_IDS


@pytest.mark.parametrize("module", sorted(CATALOGUE))
def test_every_rule_of_a_written_section_is_registered(module: str) -> None:
    """Each catalogue section whose module exists registers all of its rule ids."""
    if importlib.util.find_spec(f"coldset.domain.rules.{module}") is None:
        pytest.skip(f"rules/{module}.py is not written yet")
    registered = set(implemented())
    assert set(CATALOGUE[module]) <= registered
    assert registered <= set(RULE_IDS)
    for rid in CATALOGUE[module]:
        assert REGISTRY[rid].fn.__module__ == f"coldset.domain.rules.{module}", rid


@pytest.mark.parametrize("rule_id", ALL_IDS)
def test_doc_section_matches_the_code(rule_id: str) -> None:
    """The section names the commands the rule applies to, its registered source, the
    settings it reads (with their defaults) and every kind of verdict it can give."""
    rules = implemented()
    if rule_id not in rules:
        pytest.skip(f"{rule_id} is not registered yet")
    r, section = rules[rule_id], doc_sections()[rule_id]
    documented = set(re.findall(r"`([a-z_]+)`", field_line(section, "Applies to")))
    assert documented == {command_name(c) for c in r.applies_to}
    assert field_line(section, "Sources") == r.source
    code = rule_source(r)
    defaults = {f.name: f.default for f in fields(ProductionSettings)}
    settings_line = field_line(section, "Settings")
    for name in sorted(set(re.findall(r"settings\.([a-z_]+)", code))):
        assert f"`{name}` (default {defaults[name]})" in settings_line, name
    verdict_line = field_line(section, "Verdict")
    for helper, word in VERDICT_WORDS.items():
        if helper in code:
            assert word in verdict_line, (helper, verdict_line)
    if "ctx.block_overridable(" in code:
        assert field_line(section, "Override") != "none"


def test_every_setting_is_documented_with_its_default() -> None:
    """The settings table lists each production setting with its default."""
    text = DOC.read_text(encoding="utf-8")
    for f in fields(ProductionSettings):
        assert f"| `{f.name}` | {f.default} |" in text, f.name
