"""Canonical JSON: the exact bytes of a ledger entry.

UTF-8, keys sorted, separators ``,`` and ``:``, no insignificant white space,
integers, strings, booleans, null, lists and objects only. Floats are refused
(times are RFC 3339 strings, see :mod:`coldset.clock`). The bytes stored are the
bytes hashed: nothing re-serializes an entry to verify it.
"""

from __future__ import annotations

import json
from typing import Any


class CanonicalError(ValueError):
    pass


def _check(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed in entries (got {value!r})")
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check(v, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise CanonicalError(f"{path}: object keys must be strings (got {k!r})")
            _check(v, f"{path}.{k}")
        return
    raise CanonicalError(f"{path}: {type(value).__name__} cannot go into an entry")


def _plain(value: Any) -> bool:
    """True when ``value`` is made only of exact str/int/bool/None/list/tuple/dict with
    str keys: the common case, checked without building paths. Anything else (a
    float, a str subclass, a stray object) goes to :func:`_check`, which decides."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return True
    if t is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if t is list or t is tuple:
        return all(_plain(v) for v in value)
    return False


# One encoder, built once (json.dumps with options builds a new one on every call).
_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def dumps(value: Any, *, checked: bool = False) -> bytes:
    """Encode ``value`` as canonical JSON bytes.

    ``checked``: ``value`` is part of a value already encoded by this function (the
    command inside an entry), so it is not checked again."""
    if not checked and not _plain(value):
        _check(value, "$")
    return _ENCODE(value).encode("utf-8")


def loads(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))
