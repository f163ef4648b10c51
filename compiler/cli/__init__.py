"""The rtc command line: the only package that talks to the terminal and exit codes.

Exit codes: 0 ok, 1 findings (errors in the catalog, drift, invalid manifests),
2 usage errors (unknown options, unknown targets, no repository).

Each command lives in its own module and registers itself on `cli` when that
module is imported; COMMANDS below names the module and the command's summary,
so that `rtc --help` lists every command without importing any, and running one
imports only its module (compiler/cli/lazy.py).
"""

from compiler.cli.app import cli
from compiler.cli.lazy import LazyCommand

COMMANDS = {
    "build": LazyCommand("compiler.cli.build", "Render the clusters into out/<cluster>/."),
    "diff": LazyCommand(
        "compiler.cli.diff", "Show how the working tree changes the rendered output, object by object."
    ),
    "docs": LazyCommand("compiler.cli.docs", "Generated documentation: every document, or the one a subcommand names."),
    "explain": LazyCommand("compiler.cli.explain", "Show a field's final value and the layers that set or changed it."),
    "lint": LazyCommand("compiler.cli.lint", "Check runtimes and InferenceServices against the platform's rules."),
    "rules": LazyCommand(
        "compiler.cli.lint", "List every lint rule with its severity here, or show one rule's documentation."
    ),
    "schemas": LazyCommand(
        "compiler.cli.schemas", "The schemas rtc validates against (vendored CRDs and Kubernetes kinds)."
    ),
    "server": LazyCommand(
        "compiler.cli.server", "Keep the compiler loaded between commands, for fast builds while editing."
    ),
    "show": LazyCommand("compiler.cli.build", "Print a cluster's rendered YAML on stdout; nothing is written."),
    "validate": LazyCommand(
        "compiler.cli.validate", "Validate Kubernetes manifests offline, as the API server and KServe would."
    ),
}
cli.add_lazy_commands(COMMANDS)


def main() -> None:
    cli(prog_name="rtc")
