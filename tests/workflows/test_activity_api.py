"""The workflow calls activities through the declarations in workflows/activity_api.py; the worker must register
an implementation of each, under the same name and with the same input and result types, or a case would stall
on a call no worker can run (or decode an answer into the wrong model)."""

from __future__ import annotations

import typing

from temporalio import activity

from domain.taxonomy import get_taxonomy
from workflows import activity_api


def _definition(fn):
    defn = activity._Definition.from_callable(fn)
    assert defn is not None, fn
    return defn


def _types(fn) -> dict[str, object]:
    hints = typing.get_type_hints(fn)
    return {k: v for k, v in hints.items() if k != "self"}


def test_every_declared_activity_is_registered_with_the_same_types(engine):
    from worker import activities_for

    registered = {_definition(fn).name: fn for fn in activities_for(engine, get_taxonomy())}
    for declared in activity_api.ALL:
        name = _definition(declared).name
        assert name in registered, f"no worker implements {name}"
        assert list(_types(declared).values()) == list(_types(registered[name]).values()), name
    assert set(registered) == {_definition(d).name for d in activity_api.ALL}, "undeclared activities"
