"""A click group whose commands are imported when they run, not when rtc starts.

Importing every command's module (and what each needs: the pipeline, lint and
its rules, validation, docs) took most of `rtc --help`'s half second and a
third of a no-op build. The group knows each command by name, module and
one-line help; `rtc --help` lists them from that, and a command's module is
imported (registering the command on the group, as before) only when it is
invoked or asked for its own help.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class LazyCommand:
    module: str
    # The first paragraph of the command's help, from which `rtc --help` makes
    # its one-line summary exactly as click would (a test keeps them equal).
    summary: str


class LazyGroup(click.Group):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, LazyCommand] = {}

    def add_lazy_commands(self, commands: dict[str, LazyCommand]) -> None:
        self.lazy_commands.update(commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.lazy_commands.get(cmd_name)
        if cmd_name not in self.commands and lazy is not None:
            importlib.import_module(lazy.module)  # registers the command on this group
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # A stand-in made from the summary shortens it exactly as the real command would.
            command = self.commands.get(name) or click.Command(name, help=self.lazy_commands[name].summary)
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
