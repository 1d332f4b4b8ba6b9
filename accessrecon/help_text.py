"""How every command's ``--help`` reads: an on/off option shows no type placeholder, and a
repeatable one the placeholder of one value.

Typer writes ``<bool>`` beside every flag (``--docs/--no-docs <bool>``, even
``--help <bool>``), which reads as a value to type after it, and ``<list[str]>`` beside
an option given once per value, which reads as a Python type. ``PlainFlagsGroup`` is the
root command's class: each command it hands out, and every command below it, has its
flags' placeholder blanked before any help is drawn. A sentence for every option is
the commands' own business; tests/test_help_texts.py walks every command and holds
both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import get_args

from typer import _click as click
from typer.core import TyperGroup, TyperOption


def plain_flags(params: Iterable[click.core.Parameter]) -> list[click.core.Parameter]:
    """``params``, each flag given an empty placeholder and each repeatable option the
    placeholder of one value, ``<str>`` rather than ``<list[str]>`` (a placeholder of
    their own is kept)."""
    shown = list(params)
    for param in shown:
        if not isinstance(param, TyperOption) or param.metavar is not None:
            continue
        if param.is_flag:
            param.metavar = ""
        elif param.multiple:
            param.metavar = f"<{_one_value(param)}>"
    return shown


def _one_value(option: TyperOption) -> str:
    """How help names one value of a repeatable option, as Typer names a single one's."""
    values = get_args(option.type_descriptor.annotation)
    return getattr(values[0], "__name__", "str") if len(values) == 1 else "str"


def _plain_flags_below(command: click.core.Command, ctx: click.Context) -> None:
    plain_flags(command.get_params(ctx))  # with its --help option
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _plain_flags_below(sub, ctx)


class PlainFlagsGroup(TyperGroup):
    """The root command: its flags, and those of every command it resolves, are plain."""

    def get_params(self, ctx: click.Context) -> list[click.core.Parameter]:
        return plain_flags(super().get_params(ctx))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.core.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_flags_below(command, ctx)
        return command
