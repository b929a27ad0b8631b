"""Canonical JSON: the bytes of an entry. The fast path (exact plain types) and the full
check must agree: floats, non-string keys and stray objects are refused wherever they
sit, naming where; str subclasses (enum values) encode as their text."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coldset import canonical


class Kind(StrEnum):
    dummy = "dummy"


def test_sorted_keys_no_spaces_utf8() -> None:
    assert (
        canonical.dumps({"b": [1, True, None], "a": "é"}) == '{"a":"é","b":[1,true,null]}'.encode()
    )


def test_an_enum_value_is_its_text() -> None:
    assert canonical.dumps({"k": [Kind.dummy]}) == b'{"k":["dummy"]}'


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"a": {"b": [1, 2.5]}}, r"\$\.a\.b\[1\]: floats"),
        ({"a": [{1: "x"}]}, r"\$\.a\[0\]: object keys must be strings"),
        ({"a": ({"b": object()},)}, r"\$\.a\[0\]\.b: object cannot go into an entry"),
        (float("nan"), r"\$: floats"),
    ],
)
def test_refused_values_name_where(value: object, where: str) -> None:
    with pytest.raises(canonical.CanonicalError, match=where):
        canonical.dumps(value)


_plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_plain)
def test_fast_path_accepts_what_the_full_check_accepts(value: object) -> None:
    canonical._check(value, "$")  # the full check passes...
    assert canonical._plain(value)  # ...and so does the fast one
    assert canonical.loads(canonical.dumps(value)) == value


@given(_plain, st.floats(allow_nan=False))
def test_a_float_anywhere_is_refused(value: object, f: float) -> None:
    with pytest.raises(canonical.CanonicalError, match="floats"):
        canonical.dumps([value, {"x": [f]}])


@given(_plain)
def test_the_bytes_are_what_json_dumps_gives_with_the_canonical_options(value: object) -> None:
    """The encoder built once writes exactly what json.dumps did (entries already in logs
    keep their hashes), checked or not."""
    expected = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
    assert canonical.dumps(value) == expected
    assert canonical.dumps(value, checked=True) == expected
