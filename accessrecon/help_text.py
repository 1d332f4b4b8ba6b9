"""How every command's ``--help`` reads: an on/off option shows no type placeholder.

Typer writes ``<bool>`` beside every flag (``--docs/--no-docs <bool>``, even
``--help <bool>``), which reads as a value to type after it. ``PlainFlagsGroup`` is the
root command's class: each command it hands out, and every command below it, has its
flags' placeholder blanked before any help is drawn. A sentence for every option is
the commands' own business; tests/test_help_texts.py walks every command and holds
both.
"""

from __future__ import annotations

from collections.abc import Iterable

from typer import _click as click
from typer.core import TyperGroup, TyperOption


def plain_flags(params: Iterable[click.core.Parameter]) -> list[click.core.Parameter]:
    """``params``, each flag given an empty placeholder (one of its own is kept)."""
    shown = list(params)
    for param in shown:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return shown


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
