"""HTML form fields → a command dict, guided by the command's own model.

Strings stay strings; integer fields become integers when they look like one
(otherwise they are passed through so the command's validation names the
field); list fields take every value sent (and split text areas on lines or
commas); booleans are checkboxes; lists of sub-objects use ``name-N-sub``
field names. Empty fields are left out, so the model's default applies or it
says the field is required. PINs, confirmations and overrides:

- ``confirm_person`` / ``confirm_pin`` (repeated) → ``confirmations``;
- ``override_reason`` + ``override_person`` / ``override_pin`` → ``override``.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Union

from pydantic import BaseModel
from starlette.datastructures import FormData

from coldset.domain.commands import COMMAND_TYPES

_SKIP = {"type", "production", "actor", "confirmations", "override"}
_ITEM = re.compile(r"^([a-z_]+)-(\d{1,3})-([a-z_]+)$")


def _unwrap(ann: Any) -> Any:
    """Strip Optional / Annotated down to the core type."""
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann
            ann = args[0]
        else:
            return ann


def _scalar(ann: Any, raw: str) -> Any:
    core = _unwrap(ann)
    if core is int:
        s = raw.strip()
        return int(s) if re.fullmatch(r"-?\d{1,9}", s) else s
    if core is bool:
        return raw.lower() in ("1", "on", "true", "yes")
    return raw


def _model_fields(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, f in model.model_fields.items():
        if name not in values:
            continue
        raw = values[name]
        core = _unwrap(f.annotation)
        if typing.get_origin(core) is list:
            out[name] = raw if isinstance(raw, list) else [raw]
        elif isinstance(raw, str) and raw.strip() == "" and core is not bool:
            continue
        else:
            out[name] = _scalar(f.annotation, raw)
    return out


def _list_field(form: FormData, name: str, item: Any) -> list[Any] | None:
    core = _unwrap(item)
    if isinstance(core, type) and issubclass(core, BaseModel):
        rows: dict[int, dict[str, str]] = {}
        for key, value in form.multi_items():
            m = _ITEM.match(key)
            if m and m.group(1) == name and isinstance(value, str):
                rows.setdefault(int(m.group(2)), {})[m.group(3)] = value
        out = []
        for _n, row in sorted(rows.items()):
            if not any(
                v.strip()
                for k, v in row.items()
                if k in core.model_fields and _unwrap(core.model_fields[k].annotation) is not bool
            ):
                continue  # an empty row of a repeating group
            out.append(_model_fields(core, row))
        if rows:
            return out
        # sub-objects typed as text, one a line (a plan's mitigations: "remote camera, ...")
        texts = [
            x.strip()
            for v in form.getlist(name)
            if isinstance(v, str)
            for x in v.splitlines()
            if x.strip()
        ]
        return texts or None
    values = [v for v in form.getlist(name) if isinstance(v, str)]
    if not values:
        return None
    items: list[str] = []
    for v in values:
        items.extend(x.strip() for x in re.split(r"[\n,]", v) if x.strip())
    return [_scalar(item, x) for x in items]


def form_to_command(type_: str, form: FormData, production: str, actor: str) -> dict[str, Any]:
    """The command dict a form describes (validation is the service's job)."""
    cls = COMMAND_TYPES.get(type_)
    cmd: dict[str, Any] = {"type": type_, "production": production, "actor": actor}
    if cls is None:
        return cmd
    for name, f in cls.model_fields.items():
        if name in _SKIP:
            continue
        core = _unwrap(f.annotation)
        if typing.get_origin(core) is list:
            items = _list_field(form, name, typing.get_args(core)[0])
            if items is not None:
                cmd[name] = items
            continue
        if core is bool:
            if name in form:
                cmd[name] = _scalar(bool, str(form.get(name)))
            elif f"{name}__present" in form:
                cmd[name] = False
            continue
        raw = form.get(name)
        if isinstance(raw, str) and raw.strip() != "":
            cmd[name] = _scalar(f.annotation, raw)
    confirmations = pairs(form, "confirm_person", "confirm_pin")
    if confirmations:
        cmd["confirmations"] = confirmations
    reason = str(form.get("override_reason") or "").strip()
    if reason:
        cmd["override"] = {
            "reason": reason,
            "confirmers": pairs(form, "override_person", "override_pin"),
        }
    key = str(form.get("idempotency_key") or "").strip()
    if key:
        cmd["idempotency_key"] = key
    return cmd


def pairs(form: FormData, person_field: str, pin_field: str) -> list[dict[str, str]]:
    people = [str(v).strip() for v in form.getlist(person_field)]
    pins = [str(v).strip() for v in form.getlist(pin_field)]
    out = []
    for i, person in enumerate(people):
        pin = pins[i] if i < len(pins) else ""
        if person or pin:
            out.append({"person": person, "pin": pin})
    return out
