"""A command's JSON body, read so that no body can raise anything but a plain complaint.

``json.loads`` alone accepts things a command must not get, or fails in ways that are
not a ``ValueError``: nesting 1,000 deep raises ``RecursionError``; ``NaN``,
``Infinity`` and ``1e999`` become floats no field can hold; a repeated key silently
keeps the last value; ``"\\ud800"`` is a string that cannot be written as UTF-8.
:func:`read_object` refuses each of them with one line saying what is wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: deepest nesting of arrays and objects a command body may have (the deepest command
#: field is a few levels down; 32 leaves room and stays far from any recursion limit)
MAX_DEPTH = 32
#: longest number (digits, sign, point, exponent) a body may have
MAX_NUMBER = 40

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class BodyError(ValueError):
    """Why the body is not a command's JSON object (one plain sentence)."""


def _too_deep(text: str) -> bool:
    # Cheap first: with no more openers than the limit, no nesting can pass it.
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for m in _TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif c in "]}":
            depth -= 1
    return False


def _constant(name: str) -> Any:
    raise BodyError(f"{name} is not a JSON number; send a finite number")


def _int(s: str) -> int:
    if len(s) > MAX_NUMBER:
        raise BodyError(f"a number of {len(s)} digits is too long")
    return int(s)


def _float(s: str) -> float:
    if len(s) > MAX_NUMBER:
        raise BodyError(f"a number of {len(s)} characters is too long")
    f = float(s)
    if f in (float("inf"), float("-inf")):
        raise BodyError(f"the number {s} is too large")
    return f


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise BodyError(f"the key {k!r} appears twice")
            seen.add(k)
    return d


def _check_text(value: Any) -> None:
    """Every string (keys too) must be encodable as UTF-8 (no lone surrogate escapes)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            v.encode("utf-8")
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


def read_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or :class:`BodyError` saying why not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("is not UTF-8 text") from None
    if text.startswith("\ufeff"):
        raise BodyError("starts with a byte order mark; send plain UTF-8") from None
    if not text.strip():
        raise BodyError("is empty; send a JSON object of the command's fields")
    if _too_deep(text):
        raise BodyError(f"nests arrays or objects deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(
            text,
            parse_constant=_constant,
            parse_int=_int,
            parse_float=_float,
            object_pairs_hook=_pairs,
        )
    except BodyError:
        raise
    except (ValueError, RecursionError):
        raise BodyError("is not JSON") from None
    if not isinstance(data, dict):
        raise BodyError("must be a JSON object of the command's fields")
    if _SURROGATE_ESCAPE.search(text):
        try:
            _check_text(data)
        except UnicodeEncodeError:
            raise BodyError("has a \\u escape that is not a character (a lone surrogate)") from None
    return data
