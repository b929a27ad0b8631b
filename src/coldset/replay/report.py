"""The replay report: step by step (time, who, what, outcome, rules) and the summary —
which steps of the failure chain were stopped and by which rule, the fatal handoff,
what did not go as the file expects, and the interactions per handoff."""

from __future__ import annotations

from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from coldset.replay.engine import Replay, StepResult

#: Target for a handoff on the tablet: at most this many scans or taps (issue #5).
HANDOFF_TARGET = 3


def _what(r: StepResult) -> str:
    c = r.command
    t = r.step.type
    bits = [t.replace("_", " ")]
    for key in ("firearm", "container", "lot", "scene", "unit", "kind"):
        if c.get(key):
            bits.append(str(c[key]))
    if c.get("to"):
        bits.append(f"→ {c['to']}")
    if c.get("positions"):
        bits.append("@" + ",".join(map(str, c["positions"])))
    return " ".join(bits)


def _interactions(results: list[StepResult]) -> dict[str, Any]:
    hand = [r for r in results if r.handoff]
    issues = [r for r in hand if r.step.type == "issue"]
    inspections = [r for r in results if r.step.type == "inspect" and r.outcome.status == "allowed"]
    total = sum(r.interactions.total for r in results)
    if not hand:
        return {"handoffs": 0}
    per = [r.interactions.scans_taps for r in hand]
    return {
        "handoffs": len(hand),
        "scans_taps_per_handoff": round(mean(per), 2),
        "max_scans_taps_per_handoff": max(per),
        "target_scans_taps": HANDOFF_TARGET,
        "within_target": max(per) <= HANDOFF_TARGET,
        "pins_per_issue": round(mean(r.interactions.pins for r in issues), 2) if issues else 0,
        "checklist_per_inspection": round(mean(r.interactions.checklist for r in inspections), 2)
        if inspections
        else 0,
        "all_interactions": total,
        "all_interactions_per_handoff": round(total / len(hand), 2),
    }


def summary(rep: Replay) -> dict[str, Any]:
    rs = rep.results
    chain: dict[str, list[dict[str, Any]]] = {}
    for r in rs:
        if r.step.chain:
            chain.setdefault(r.step.chain, []).append(
                {
                    "step": r.step.number,
                    "status": r.outcome.status,
                    "rules": list(r.outcome.blocking)
                    or (
                        [f"rejected: {r.outcome.error_kind}"]
                        if r.outcome.status == "rejected"
                        else []
                    ),
                    "raised": list(r.outcome.raised),
                    "expected": list(r.step.rules),
                }
            )
    fatal = [r for r in rs if r.step.fatal]
    return {
        "steps": len(rs),
        "allowed": sum(r.outcome.status == "allowed" for r in rs),
        "refused": sum(r.outcome.status == "refused" for r in rs),
        "rejected": sum(r.outcome.status == "rejected" for r in rs),
        "alerts": sum(r.outcome.alerts for r in rs if r.outcome.status == "allowed"),
        "stop_works": sum(
            1
            for r in rs
            if r.outcome.status == "allowed"
            for v in r.outcome.verdicts
            if v["verdict"] == "stop_work"
        ),
        "as_expected": sum(r.matched for r in rs),
        "mismatches": [
            {
                "step": r.step.number,
                "label": r.step.label,
                "at": _local(rep, r),
                "problems": r.problems,
            }
            for r in rs
            if r.failed and not r.step.gap
        ],
        "known_gaps": [
            {"step": r.step.number, "gap": r.step.gap, "problems": r.problems}
            for r in rs
            if r.known_gap
        ],
        "gaps_closed": [
            {"step": r.step.number, "gap": r.step.gap} for r in rs if r.step.gap and r.matched
        ],
        "failure_chain": chain,
        "fatal_handoff": {
            "attempts": len(fatal),
            "refused": sum(r.outcome.status == "refused" for r in fatal),
            "reached": any(r.outcome.status == "allowed" for r in fatal),
        },
        "interactions": _interactions(rs),
        "ok": not any(r.failed for r in rs),
    }


def _local(rep: Replay, r: StepResult) -> str:
    return r.ran_at.astimezone(ZoneInfo(rep.scenario.time_zone)).strftime("%Y-%m-%d %H:%M:%S")


def to_json(rep: Replay) -> dict[str, Any]:
    return {
        "file": str(rep.scenario.path),
        "scenario": rep.scenario.name,
        "via": rep.via,
        "production": rep.scenario.production,
        "setup_commands": rep.setup_commands,
        "steps": [
            {
                "step": r.step.number,
                "at": _local(rep, r),
                "by": r.step.by,
                "command": r.step.type,
                "what": _what(r),
                "expected": r.step.expect,
                "expected_rules": list(r.step.rules),
                "status": r.outcome.status,
                "rules": list(r.outcome.blocking),
                "raised": list(r.outcome.raised),
                "error_kind": r.outcome.error_kind,
                "reasons": [v["reason"] for v in r.outcome.verdicts],
                "matched": r.matched,
                "problems": r.problems,
                "gap": r.step.gap or None,
                "chain": r.step.chain or None,
                "fatal": r.step.fatal,
                "story": r.step.story or None,
                "interactions": r.interactions.to_dict(),
            }
            for r in rep.results
        ],
        "summary": summary(rep),
    }


def _outcome_cell(r: StepResult) -> Text:
    o = r.outcome
    style = (
        {"allowed": "green", "refused": "yellow", "rejected": "magenta"}[o.status]
        if o.status in ("allowed", "refused", "rejected")
        else "red"
    )
    t = Text(o.status, style=style)
    if o.status == "rejected":
        t.append(f" ({o.error_kind})", style="dim")
    if r.failed:
        t.append(
            "  ✗ " + ("gap closed: remove its gap mark" if r.step.gap else "; ".join(r.problems)),
            style="bold red",
        )
    elif r.known_gap:
        t.append("  known gap", style="bold yellow")
    return t


def render(rep: Replay, console: Console) -> None:
    s = summary(rep)
    console.print(
        f"[bold]{rep.scenario.name}[/]  ({rep.scenario.path}, via {rep.via}, "
        f"{rep.setup_commands} setup commands)"
    )
    table = Table(show_lines=False, pad_edge=False, expand=False)
    for col in ("#", "time", "who", "what", "outcome", "rules"):
        table.add_column(col, overflow="fold")
    day = ""
    for r in rep.results:
        local = _local(rep, r)
        when = local[11:16] if local[:10] == day else local[:16]
        day = local[:10]
        what = Text(_what(r))
        if r.step.story:
            what.append("\n" + r.step.story, style="dim italic")
        rules = ", ".join(r.outcome.blocking) or ", ".join(
            f"{x} (raised)" for x in r.outcome.raised
        )
        table.add_row(str(r.step.number), when, r.step.by, what, _outcome_cell(r), rules)
    console.print(table)
    console.print(
        f"[bold]Summary:[/] {s['steps']} steps — {s['allowed']} allowed, "
        f"{s['refused']} refused, {s['rejected']} rejected; {s['alerts']} alerts, "
        f"{s['stop_works']} stop-works raised; {s['as_expected']} as the file "
        "expects."
    )
    if s["failure_chain"]:
        console.print("[bold]Failure chain:[/]")
        for label, tries in s["failure_chain"].items():
            parts = []
            for t in tries:
                if t["status"] != "allowed":
                    parts.append(f"stopped by {', '.join(t['rules'])} (step {t['step']})")
                elif t["raised"]:
                    parts.append(f"raised {', '.join(t['raised'])} (step {t['step']})")
                else:
                    parts.append(f"[bold red]NOT stopped[/] (step {t['step']})")
            console.print(f"  • {label}: " + "; ".join(parts))
    f = s["fatal_handoff"]
    if f["attempts"]:
        verdict = "[bold red]REACHED[/]" if f["reached"] else "[bold green]never reached[/]"
        console.print(
            f"[bold]Fatal handoff:[/] {verdict} — {f['refused']} of "
            f"{f['attempts']} attempts refused."
        )
    i = s["interactions"]
    if i.get("handoffs"):
        ok = "within" if i["within_target"] else "[bold red]over[/]"
        console.print(
            f"[bold]Interactions:[/] {i['handoffs']} handoffs; {i['scans_taps_per_handoff']} "
            f"scans/taps per handoff (max {i['max_scans_taps_per_handoff']}, {ok} the target "
            f"of {i['target_scans_taps']}) + {i['checklist_per_inspection']} checklist items "
            f"per inspection + {i['pins_per_issue']} PIN entries per issue; "
            f"{i['all_interactions_per_handoff']} interactions per handoff over the whole day."
        )
    for g in s["known_gaps"]:
        console.print(
            f"[yellow]Known gap[/] at step {g['step']}: {g['gap']} ({'; '.join(g['problems'])})"
        )
    for g in s["gaps_closed"]:
        console.print(
            f"[bold red]Gap closed[/] at step {g['step']}: it now goes as expected; "
            "remove its gap mark from the scenario."
        )
    for m in s["mismatches"]:
        console.print(
            f"[bold red]Not as expected:[/] {m['label']} at {m['at']}: " + "; ".join(m["problems"])
        )
    gaps = len(s["known_gaps"])
    if s["ok"]:
        console.print(
            "[bold green]OK[/]: every step went as the scenario expects"
            + (f" ({gaps} known gap{'s' if gaps > 1 else ''} marked in the file)." if gaps else ".")
        )
    else:
        console.print("[bold red]FAILED[/]: see the steps marked ✗ above.")
