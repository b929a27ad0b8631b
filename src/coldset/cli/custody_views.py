"""``coldset board``, ``timeline``, ``rebuild`` and ``demo``."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import typer
from rich.table import Table

from coldset.cli.app import JSON_OPTION, CliError, app, emit_json, handled, out
from coldset.cli.custody import open_service, pick_production
from coldset.domain.sample import PEOPLE, PRODUCTION, western
from coldset.install import init_install

PRODUCTION_OPTION = typer.Option(
    None, "--production", "-p", help="Production id (or COLDSET_PRODUCTION)."
)


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min" if seconds < 7200 else f"{seconds // 3600} h"


@app.command(rich_help_panel="Custody views")
@handled
def board(
    ctx: typer.Context, production: str = PRODUCTION_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Every firearm and lot right now: who, where, loaded, inspection age; alerts first."""
    with open_service(ctx) as svc:
        b = svc.board(pick_production(svc, production))
    if as_json:
        emit_json(b)
        return
    p = b["production"]
    out.print(f"[bold]{p['title']}[/] ({p['id']})")
    if p["exemption"] != "none":
        out.print(f"[bold yellow]Cal. LC §9155 exemption: {p['exemption']}[/]")
    for sw in b["stop_works"]:
        out.print(
            f"[bold white on red] STOP-WORK {sw['scope']} [/] {sw['reason']} "
            f"({sw['rule'] or ''}, {sw['called_by']}, {sw['at']}) id {sw['id']}",
            markup=True,
        )
    for a in b["alerts"]:
        out.print(f"[bold black on yellow] ALERT {a['rule']} [/] {a['reason']} id {a['id']}")
    t = Table(title="Firearms", show_lines=False)
    for col in ("id", "type", "where", "loaded", "scene", "inspected", "status"):
        t.add_column(col)
    for f in b["firearms"]:
        status = "QUARANTINED" if f["quarantined"] else "returned" if f["disposed"] else ""
        loaded = f"{f['rounds_loaded']} rounds" if f["rounds_loaded"] else "empty"
        if f["cases_in"]:
            loaded += f", {f['cases_in']} cases"
        t.add_row(
            f["id"],
            f["type"].replace("_", " "),
            f["where"],
            loaded,
            f["issued_for"] or "",
            _age(f["inspection_age_s"]),
            status,
        )
    out.print(t)
    lt = Table(title="Ammunition lots")
    for col in ("lot", "kind", "caliber", "in stock", "in firearms", "fired", "where", "status"):
        lt.add_column(col)
    for lot in b["lots"]:
        status = (
            "QUARANTINED"
            if lot["quarantined"]
            else (f"discrepancy {lot['discrepancy']:+d}" if lot["discrepancy"] else "")
        )
        where = ", ".join(f"{k.split(':', 1)[1]}: {v}" for k, v in lot["where"].items())
        lt.add_row(
            lot["id"],
            lot["kind"],
            lot["caliber"],
            str(lot["in_stock"]),
            str(lot["in_firearms"]),
            str(lot["fired"]),
            where,
            status,
        )
    out.print(lt)
    ct = Table(title="Containers")
    for col in ("id", "kind", "unit", "state", "firearms"):
        ct.add_column(col)
    for c in b["containers"]:
        state = "locked" if c["locked"] else f"OPEN ({c['opened_by']})"
        ct.add_row(c["id"], c["kind"], c["unit"] or "", state, ", ".join(c["firearms"]))
    out.print(ct)


@app.command(rich_help_panel="Custody views")
@handled
def timeline(
    ctx: typer.Context,
    firearm: str = typer.Argument(..., help="Firearm id."),
    production: str = PRODUCTION_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Everything that happened to one firearm: who, when, what, outcome, which rules."""
    with open_service(ctx) as svc:
        rows = svc.timeline(pick_production(svc, production), firearm)
    if as_json:
        emit_json(rows)
        return
    t = Table(title=f"Timeline of {firearm}")
    for col in ("#", "at", "who", "what", "outcome", "rules"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            str(r["idx"]), r["at"], r["actor"], r["summary"], r["outcome"], ", ".join(r["rules"])
        )
    out.print(t)


@app.command(rich_help_panel="Custody views")
@handled
def rebuild(
    ctx: typer.Context, production: str = PRODUCTION_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Recompute the custody tables of a production from its log."""
    with open_service(ctx) as svc:
        prod = pick_production(svc, production)
        state = svc.rebuild(prod)
    if state.production is None:
        raise CliError(f"no production {prod!r}")
    summary = {
        "ok": True,
        "production": prod,
        "entries": state.size,
        "firearms": len(state.firearms),
        "lots": len(state.lots),
    }
    if as_json:
        emit_json(summary)
        return
    out.print(
        f"Rebuilt {prod} from {state.size} log entries "
        f"({len(state.firearms)} firearms, {len(state.lots)} lots)."
    )


@app.command(rich_help_panel="Custody views")
@handled
def demo(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Create the DEMO western (two units, six firearms, eight people) and start its day."""
    settings = ctx.obj.settings()
    if not settings.install_path.exists():
        init_install(settings, "demo.coldset.local")
    pins = {pid: f"{secrets.randbelow(9000) + 1000}" for pid in PEOPLE}
    now = datetime.now(UTC)
    with open_service(ctx) as svc:
        tz_day = now.astimezone(__import__("zoneinfo").ZoneInfo("America/Denver")).date()
        cmds = western(tz_day, pins)
        if any(p["id"] == PRODUCTION for p in svc.productions()):
            raise CliError(
                f"the demo production {PRODUCTION!r} already exists in "
                f"{settings.home}; use another --home for a fresh demo"
            )
        c = {"production": PRODUCTION}
        watchers = [{"person": p, "pin": pins[p]} for p in ("alec", "dave")]
        cmds += [
            {**c, "type": "unlock_container", "actor": "hana", "container": "safe-main"},
            {
                **c,
                "type": "inspect",
                "actor": "hana",
                "firearm": "colt-1",
                "chambers": ["empty"] * 6,
                "barrel_clear": True,
                "confirmations": watchers,
            },
            {
                **c,
                "type": "issue",
                "actor": "hana",
                "firearm": "colt-1",
                "to": "alec",
                "scene": "sc-12",
                "confirmations": watchers,
            },
            {
                **c,
                "type": "lock_container",
                "actor": "hana",
                "container": "safe-main",
                "firearms": ["colt-2", "rubber-1", "replica-1"],
            },
        ]
        results = svc.execute_batch(cmds)
    bad = [f"{r.command}: {r.error}" for r in results if not r.ok]
    if as_json:
        emit_json(
            {
                "ok": not bad,
                "demo": True,
                "production": PRODUCTION,
                "pins": pins,
                "home": str(settings.home),
                "problems": bad,
            }
        )
        return
    out.print(
        "[bold white on red] DEMO [/] This is a demo production with made-up people. "
        "Do not use it on a real set."
    )
    out.print(f"Created [bold]{PRODUCTION}[/] in {settings.home}: {len(results)} commands.")
    for line in bad:
        out.print(f"[yellow]note[/] {line}", markup=False)
    t = Table(title="Demo people and PINs (shown once)")
    for col in ("id", "name", "roles", "PIN"):
        t.add_column(col)
    for pid, (name, roles) in PEOPLE.items():
        t.add_row(pid, name, ", ".join(roles), pins[pid])
    out.print(t)
    out.print(
        "Next: [bold]coldset board[/]   ·   coldset timeline colt-1   ·   "
        "coldset collect --as hana --firearm colt-1"
    )
