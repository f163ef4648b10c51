"""The rtc command line: the only package that talks to the terminal and exit codes.

Exit codes: 0 ok, 1 findings (errors in the catalog, drift, invalid manifests),
2 usage errors (unknown options, unknown targets, no repository).

Each command lives in its own module and registers itself on `cli`.
"""

from compiler.cli import build as _build  # noqa: F401  (registers build, show)
from compiler.cli import diff as _diff  # noqa: F401
from compiler.cli import docs as _docs  # noqa: F401  (registers docs, docs catalog, docs rules)
from compiler.cli import explain as _explain  # noqa: F401
from compiler.cli import lint as _lint  # noqa: F401  (registers lint, rules)
from compiler.cli import schemas as _schemas  # noqa: F401  (registers schemas export)
from compiler.cli import validate as _validate  # noqa: F401  (registers validate)
from compiler.cli.app import cli


def main() -> None:
    cli(prog_name="rtc")
