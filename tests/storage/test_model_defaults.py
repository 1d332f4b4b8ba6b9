"""Every row model's default factories are Python functions (``agent.storage.models.defaults``).

Making a row object asks each default factory for its signature, every time; a builtin
such as ``list`` answers by having its text signature parsed, which cost more than the
rest of making a finding, and a first crawl makes one per user it reads.
"""

from __future__ import annotations

import inspect

from sqlmodel import SQLModel

import agent.storage.models  # noqa: F401 - every table registers itself


def _tables() -> list[type[SQLModel]]:
    found: list[type[SQLModel]] = []
    pending = list(SQLModel.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if getattr(cls, "__table__", None) is not None and cls.__module__.startswith("agent."):
            found.append(cls)
    return found


def test_every_default_factory_is_a_python_function() -> None:
    tables = _tables()
    assert len(tables) > 20, "the walk finds the product's tables"
    builtins = [
        f"{cls.__name__}.{name}: {field.default_factory!r}"
        for cls in tables
        for name, field in cls.model_fields.items()
        if field.default_factory is not None and not inspect.isfunction(field.default_factory)
    ]
    assert builtins == []


def test_the_walk_would_see_a_builtin_factory() -> None:
    """The check can fail: a finding's permissions made by ``list`` itself is caught."""
    from agent.storage.models import Finding

    field = Finding.model_fields["extra_permissions"]
    assert inspect.isfunction(field.default_factory)
    assert not inspect.isfunction(list)
