"""The domain's fast ``replace`` builds what ``dataclasses.replace`` builds, and the
state's dataclasses and the rules' context keep the shape it relies on."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from coldset.domain import model, rules, state
from coldset.domain.model import replace
from tests.domain.conftest import Sim


def _state_classes() -> list[type]:
    found = []
    for mod in (model, state, rules):
        for obj in vars(mod).values():
            if (
                isinstance(obj, type)
                and dataclasses.is_dataclass(obj)
                and obj.__module__ == mod.__name__
                and obj.__dataclass_params__.frozen
            ):
                found.append(obj)
    return found


@pytest.mark.parametrize("cls", _state_classes(), ids=lambda c: c.__name__)
def test_every_frozen_state_class_has_the_shape_replace_needs(cls: type) -> None:
    """No __post_init__ (replace would skip it), no init=False field, no slots."""
    assert not hasattr(cls, "__post_init__")
    assert all(f.init for f in dataclasses.fields(cls))
    assert "__slots__" not in vars(cls)


def _instances(s: Any) -> list[Any]:
    out = []
    for value in vars(s).values():
        if isinstance(value, Mapping):
            out += [
                v for v in value.values() if dataclasses.is_dataclass(v) and not isinstance(v, type)
            ]
    return out


def test_replace_equals_dataclasses_replace_on_the_western(western_sim: Sim) -> None:
    """Every record of the sample western, each field changed in turn: equal results,
    the original untouched, and an unknown field refused the same way."""
    objs = _instances(western_sim.state)
    assert len({type(o) for o in objs}) >= 6
    for obj in objs:
        before = dataclasses.astuple(obj)
        for f in dataclasses.fields(obj):
            mine = replace(obj, **{f.name: "changed"})
            theirs = dataclasses.replace(obj, **{f.name: "changed"})
            assert mine == theirs and type(mine) is type(theirs)
            assert getattr(mine, f.name) == "changed"
        assert dataclasses.astuple(obj) == before
        with pytest.raises(TypeError):
            replace(obj, no_such_field=1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            replace(obj).__setattr__(dataclasses.fields(obj)[0].name, 1)
