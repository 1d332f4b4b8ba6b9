"""How much text a column holds, read from the model, which is the one place widths are set.

Free text that reaches a column from outside (a portal's error message, a reviewer's
reason, a token's label) is cut to fit rather than refused: the record matters more
than its tail, and PostgreSQL refuses an over-long value that SQLite would keep, so
the two databases would otherwise disagree.
"""

from __future__ import annotations

__all__ = ["fit", "width"]


def width(column: object) -> int:
    """The declared length of a model's string field, given as the field itself.

    ``column`` is a table model's class attribute (``Finding.detail``); it is typed
    ``object`` because SQLModel declares such attributes as the Python type they hold.
    """
    length = getattr(getattr(column, "type", None), "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column!r} is not a string column with a declared length")
    return length


def fit(text: str, column: object) -> str:
    """``text`` cut to what ``column`` (``Finding.detail``, as for ``width``) holds."""
    return text[: width(column)]
