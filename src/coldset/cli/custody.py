"""Custody commands: one CLI command per service command, built from the command models.

``coldset issue --as hana --firearm colt-1 --to alec --scene sc-12 --confirm alec``

Every command takes ``--production`` (or ``COLDSET_PRODUCTION``; optional when
there is one production), ``--as`` (the acting person), ``--confirm PERSON``
(repeatable), ``--override-reason`` with ``--override-confirm PERSON``,
``--pins-from-stdin``, ``--idempotency-key``, ``--data JSON`` (fields as a JSON
object) and ``--json``. PINs never go on the command line: each confirmer's PIN
is read from standard input, the environment or a hidden prompt (see
:mod:`coldset.cli.pin_input`); so is a new PIN (set-pin, reset-pin, and
add-person / create-production with ``--with-pin``). List fields repeat
(``--positions 1 --positions 2``) or take commas; object fields (scene plans,
shots, rounds) take JSON.

Exit codes: 0 allowed; 1 malformed input or an unknown id (the message says
what to fix); 2 refused (one line per failing rule: id, reason, source) or
rejected (wrong role, stale state, duplicate, wrong PIN).
"""

from __future__ import annotations

import inspect
import json
import os
import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import Enum
from typing import Any

import typer
from pydantic import BaseModel

from coldset.cli.app import (
    EXIT_INPUT,
    EXIT_REFUSED,
    JSON_OPTION,
    CliError,
    app,
    emit_json,
    handled,
    out,
)
from coldset.cli.pin_input import PinSource, confirmer, has_pin, refuse_pin_option
from coldset.clock import SystemClock
from coldset.domain.commands import COMMAND_TYPES, CommandBase
from coldset.install import open_install
from coldset.service import CustodyService, Result

_COMMON = {"type", "production", "actor", "confirmations", "override", "idempotency_key"}


@contextmanager
def open_service(ctx: typer.Context) -> Iterator[CustodyService]:
    inst = open_install(ctx.obj.settings())
    try:
        yield CustodyService(
            inst.store, inst.ledger, SystemClock(), pins=inst.pins, origin_prefix=inst.signer.name
        )
    finally:
        inst.close()


def pick_production(svc: CustodyService, production: str | None) -> str:
    production = production or os.environ.get("COLDSET_PRODUCTION")
    if production:
        return production
    prods = [p["id"] for p in svc.productions()]
    if len(prods) == 1:
        return str(prods[0])
    raise CliError(
        "name the production with --production (or COLDSET_PRODUCTION); "
        f"productions here: {', '.join(prods) or 'none (run `coldset demo`)'}"
    )


def _confirmations(people: list[str], pins: PinSource) -> list[dict[str, str]]:
    return [{"person": person, "pin": pins.pin(person)} for person in people]


# ------------------------------------------------------------------ field mapping


def _unwrap(ann: Any) -> Any:
    """Strip Optional / Annotated down to the core type."""
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            ann = args[0] if len(args) == 1 else str
        else:
            return ann


def _kind(ann: Any) -> str:
    core = _unwrap(ann)
    origin = typing.get_origin(core)
    if origin is list:
        item = _unwrap(typing.get_args(core)[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return "list-json"
        return "list-int" if item is int else "list-str"
    if origin is dict or (isinstance(core, type) and issubclass(core, BaseModel)):
        return "json"
    if core is bool:
        return "bool"
    if core is int:
        return "int"
    return "str"


def _help(name: str, field: Any, kind: str) -> str:
    """The option's help: the field's description (else its name), choices, "required"."""
    core = _unwrap(field.annotation)
    if typing.get_origin(core) is list:  # choices of a list are its items' choices
        core = _unwrap(typing.get_args(core)[0])
    desc = (field.description or "").strip().rstrip(".")
    bits = [desc or name.replace("_", " ")]
    if typing.get_origin(core) is typing.Literal:
        bits.append("one of: " + ", ".join(map(str, typing.get_args(core))))
    elif isinstance(core, type) and issubclass(core, Enum):
        bits.append("one of: " + ", ".join(m.value for m in core))
    elif core is date and "YYYY-MM-DD" not in desc:
        bits.append("YYYY-MM-DD")
    if kind in ("json", "list-json") and "JSON" not in desc:
        bits.append("JSON")
    if kind in ("list-int", "list-str", "list-json"):
        bits.append("repeatable" if kind == "list-json" else "repeatable or comma-separated")
    if field.is_required():
        bits.append("required")
    return "; ".join(bits)


def _doc(model: type[CommandBase], type_: str) -> tuple[str, str]:
    """(short help, help) from the model's docstring: its first paragraph, and all of it.

    Each paragraph is joined onto one line so the terminal, not the source, wraps it.
    """
    doc = inspect.cleandoc(model.__doc__ or type_.replace("_", " ").capitalize())
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    return paragraphs[0], "\n\n".join(paragraphs)


def _convert(kind: str, value: Any, name: str) -> Any:
    try:
        if kind == "int":
            return value
        if kind == "json":
            return json.loads(value)
        if kind == "list-json":
            return [json.loads(v) for v in value]
        if kind in ("list-int", "list-str"):
            items = [x.strip() for v in value for x in str(v).split(",") if x.strip()]
            return [int(x) for x in items] if kind == "list-int" else items
    except (ValueError, json.JSONDecodeError) as e:
        raise CliError(f"--{name.replace('_', '-')}: {e}") from None
    return value


def _option(name: str, field: Any) -> tuple[inspect.Parameter, str]:
    kind = _kind(field.annotation)
    flag = "--" + name.replace("_", "-")
    help_ = _help(name, field, kind)
    ann: Any
    if kind == "bool":
        ann, default = bool | None, typer.Option(None, f"{flag}/--no-{flag[2:]}", help=help_)
    elif kind == "int":
        ann, default = int | None, typer.Option(None, flag, help=help_)
    elif kind.startswith("list"):
        ann, default = list[str] | None, typer.Option(None, flag, help=help_)
    else:
        ann, default = str | None, typer.Option(None, flag, help=help_)
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann
    ), kind


_COMMON_PARAMS: list[tuple[str, Any, Any]] = [
    ("ctx", typer.Context, inspect.Parameter.empty),
    (
        "production",
        str | None,
        typer.Option(None, "--production", "-p", help="Production id (or COLDSET_PRODUCTION)."),
    ),
    ("actor", str | None, typer.Option(None, "--as", help="The person acting (their id).")),
    (
        "confirm",
        list[str] | None,
        typer.Option(
            None,
            "--confirm",
            help="A person confirming with their PIN (the PIN is asked for, "
            "or read from COLDSET_PIN_<PERSON> or --pins-from-stdin); repeatable.",
        ),
    ),
    (
        "override_reason",
        str | None,
        typer.Option(None, "--override-reason", help="Override a rule that allows it."),
    ),
    (
        "override_confirm",
        list[str] | None,
        typer.Option(
            None,
            "--override-confirm",
            help="A person confirming the override with their PIN "
            "(read as for --confirm); repeatable.",
        ),
    ),
    (
        "pins_from_stdin",
        bool,
        typer.Option(
            False,
            "--pins-from-stdin",
            help="Read the PINs from standard input, one PERSON:PIN a "
            "line (+new:PIN for a new PIN), instead of asking.",
        ),
    ),
    (
        "idempotency_key",
        str | None,
        typer.Option(None, "--idempotency-key", help="A retry with the same key is safe."),
    ),
    ("data", str | None, typer.Option(None, "--data", help="Fields as a JSON object.")),
    ("as_json", bool, JSON_OPTION),
]


def _pin_params(field: Any) -> list[inspect.Parameter]:
    """A command that sets a PIN: --with-pin when it is optional, and the old --pin, hidden,
    only to refuse it with how to give the PIN now."""
    params = [
        inspect.Parameter(
            "pin_on_command_line",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(None, "--pin", hidden=True),
            annotation=str | None,
        )
    ]
    if not field.is_required():
        params.insert(
            0,
            inspect.Parameter(
                "with_pin",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=bool,
                default=typer.Option(
                    False,
                    "--with-pin",
                    help="Give them a PIN now, 4 to 8 digits "
                    "(asked for twice, or read from COLDSET_NEW_PIN or a +new:PIN "
                    "line with --pins-from-stdin).",
                ),
            ),
        )
    return params


def _make(type_: str, model: type[CommandBase]) -> None:
    fields = {n: f for n, f in model.model_fields.items() if n not in _COMMON}
    params, kinds = [], {}
    pin_field = fields.pop("pin", None)
    for n, f in fields.items():
        p, kinds[n] = _option(n, f)
        params.append(p)
    if pin_field is not None:
        params.extend(_pin_params(pin_field))
    common = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a)
        for n, a, d in _COMMON_PARAMS
    ]

    def command(**kw: Any) -> None:
        ctx: typer.Context = kw.pop("ctx")
        raw: dict[str, Any] = json.loads(kw.pop("data")) if kw.get("data") else {}
        kw.pop("data", None)
        as_json = kw.pop("as_json")
        if has_pin(raw):
            raise CliError(
                "--data: a PIN on the command line is visible to every user of "
                "this machine and stays in shell history. Leave PINs out of --data: "
                "name confirmers with --confirm PERSON and give each PIN at the "
                "prompt, in COLDSET_PIN_<PERSON>, or with --pins-from-stdin"
            )
        if kw.pop("pin_on_command_line", None) is not None:
            refuse_pin_option(
                "--pin", "Use --with-pin instead." if "with_pin" in kw else "Leave --pin out."
            )
        with_pin = kw.pop("with_pin", pin_field is not None)
        confirm = [confirmer(v, "--confirm") for v in kw.pop("confirm") or ()]
        reason = kw.pop("override_reason")
        oconf = [confirmer(v, "--override-confirm") for v in kw.pop("override_confirm") or ()]
        pins = PinSource(kw.pop("pins_from_stdin"))
        key, actor, production = kw.pop("idempotency_key"), kw.pop("actor"), kw.pop("production")
        for n, v in kw.items():
            if v is not None:
                raw[n] = _convert(kinds[n], v, n)
        with open_service(ctx) as svc:
            raw.update(type=type_, production=pick_production(svc, production))
            if actor:
                raw["actor"] = actor
            elif "actor" not in raw:
                raise CliError("say who is acting: --as PERSON")
            if confirm:
                raw["confirmations"] = _confirmations(confirm, pins)
            if reason or oconf:
                raw["override"] = {
                    "reason": reason or "",
                    "confirmers": _confirmations(oconf, pins),
                }
            if with_pin:
                owner = raw.get("actor") if type_ == "create_production" else raw.get("person")
                if not owner:
                    raise CliError("say whose PIN this is: --person PERSON")
                raw["pin"] = pins.new_pin(str(owner))
            if key:
                raw["idempotency_key"] = key
            render(svc.execute(raw), as_json)

    all_params = [common[0], *params, *common[1:]]
    command.__signature__ = inspect.Signature(all_params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in all_params}
    short_help, help_ = _doc(model, type_)
    if pin_field is not None and pin_field.is_required():
        help_ += (
            "\n\nThe new PIN is asked for twice (or read from COLDSET_NEW_PIN, or from a "
            "+new:PIN line with --pins-from-stdin); it never goes on the command line."
        )
    command.__doc__ = help_
    command.__name__ = type_
    app.command(
        name=type_.replace("_", "-"), help=help_, short_help=short_help, rich_help_panel="Custody"
    )(handled(command))


for _type, _model in sorted(COMMAND_TYPES.items()):
    _make(_type, _model)


# ------------------------------------------------------------------ rendering


def render(r: Result, as_json: bool) -> None:
    """Print a result and exit with its code (0 allowed, 1 fix input, 2 refused)."""
    code = (
        0 if r.ok else EXIT_INPUT if r.error_kind in ("malformed", "unknown-id") else EXIT_REFUSED
    )
    if as_json:
        emit_json({"ok": r.ok, **r.to_dict()})
        raise typer.Exit(code)
    if r.ok:
        note = " (already done: same idempotency key)" if r.replayed else ""
        out.print(f"[green]allowed[/] {r.command} (entry {r.index}){note}")
        for e in r.events:
            facts = ", ".join(f"{k}={v}" for k, v in e.items() if k != "type")
            out.print(f"  {e['type']}: {facts}", markup=False)
        for v in r.verdicts:
            out.print(
                f"  [yellow]{v['verdict']}[/] {v['rule']}: {v['reason']} [dim]({v['source']})[/]"
            )
        for name, secret in r.secrets.items():
            out.print(f"  {name} (shown once, keep it): {secret}", markup=False)
        raise typer.Exit(0)
    from coldset.cli.app import err

    if r.status == "refused":
        err.print(f"[bold red]refused[/] {r.command} (entry {r.index}):")
        for v in r.verdicts:
            if v["verdict"].startswith("block"):
                how = (
                    " — override: " + " + ".join(v["overridable_by"])
                    if v.get("overridable_by")
                    else ""
                )
                err.print(f"  {v['rule']}: {v['reason']} [dim](source: {v['source']})[/]{how}")
        if r.error and "override" in r.error and r.error_kind != "refused":
            err.print(f"  {r.error}", markup=False)
        raise typer.Exit(code)
    where = f" (recorded as entry {r.index})" if r.index is not None else ""
    err.print(f"[bold red]{r.error_kind}[/] {r.command or ''}{where}:")
    for f, m in r.field_errors:
        err.print(
            f"  --{f.split('.')[0].replace('_', '-')}"
            f"{'.' + f.split('.', 1)[1] if '.' in f else ''}: {m}",
            markup=False,
        )
    if not r.field_errors:
        err.print(f"  {r.error}", markup=False)
    raise typer.Exit(code)
