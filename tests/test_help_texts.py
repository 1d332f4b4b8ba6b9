"""Every command's ``--help`` explains itself: a sentence for each option and argument, no
``<bool>`` beside a flag, no ``<list[str]>`` beside a repeatable option.

The tests walk the command tree the way ``accessrecon`` builds it (every command and
subcommand, however deep), so a new option without help text fails here, naming it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from accessrecon.cli import app


def _commands() -> Iterator[tuple[tuple[str, ...], object]]:
    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], object]]:
        yield path, command
        if isinstance(command, TyperGroup):
            for name, sub in sorted(command.commands.items()):
                yield from walk(sub, (*path, name))

    yield from walk(get_command(app), ())


COMMANDS = list(_commands())
IDS = [" ".join(path) or "accessrecon" for path, _ in COMMANDS]


def test_the_walk_reaches_every_level() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "scan", "findings", "review ack", "portal fixtures replay", "login add"} <= paths
    assert len(paths) > 60


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_and_option_has_a_sentence(path: tuple[str, ...], command: object) -> None:
    assert isinstance(command, typer.core.TyperCommand | TyperGroup)
    assert (command.help or "").strip(), f"'accessrecon {' '.join(path)}' has no help text"
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        name = "/".join(param.opts) or str(param.name)
        words = (param.help or "").split()
        assert len(words) >= 3, (
            f"'accessrecon {' '.join(path)}' {name}: help {param.help!r} is not a sentence"
        )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_shows_no_type_placeholder_on_a_flag(path: tuple[str, ...], command: object) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "--help" in result.output
    assert "<bool>" not in result.output, f"'accessrecon {' '.join(path)} --help':\n{result.output}"
    assert "<list[" not in result.output, f"'accessrecon {' '.join(path)} --help':\n{result.output}"


def test_a_repeatable_option_shows_the_placeholder_of_one_value() -> None:
    result = CliRunner().invoke(app, ["campaign", "decide", "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    [item] = [line for line in result.output.splitlines() if "--item" in line]
    assert "<int>" in item
