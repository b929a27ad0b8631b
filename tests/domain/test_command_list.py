"""The list of commands exists once: the ``Command`` union; ``COMMAND_TYPES`` is read off it."""

from __future__ import annotations

from typing import get_args

from coldset.domain import commands as c


def _subclasses(cls: type) -> set[type]:
    out: set[type] = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out


def test_command_types_are_the_union_in_its_order() -> None:
    """COMMAND_TYPES holds exactly the union's models, in the union's order, each under
    its own ``type`` tag; parse_command and COMMAND_TYPES therefore agree on every type."""
    union = list(get_args(get_args(c.Command)[0]))
    assert list(c.COMMAND_TYPES.values()) == union
    for tag, cls in c.COMMAND_TYPES.items():
        assert get_args(cls.model_fields["type"].annotation) == (tag,)


def test_every_command_model_is_in_the_union() -> None:
    """A CommandBase subclass left out of the union would be a command nothing can send:
    every one (in commands.py) is in it."""
    defined = {k for k in _subclasses(c.CommandBase) if k.__module__ == c.__name__}
    assert defined == set(c.COMMAND_TYPES.values())
