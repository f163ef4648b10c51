"""What CI systems read: the SARIF 2.1.0 envelope and GitHub Actions workflow commands.

Shared by `rtc lint` (compiler/lint_report.py) and `rtc validate`
(compiler/validation/report.py), which fill them with their own results.
"""

from __future__ import annotations

import json
from typing import Any

from compiler import __version__

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif_log(rules: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
    """One SARIF run by the tool rtc, as JSON text."""
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "rtc", "version": __version__, "rules": rules}}, "results": results}],
    }
    return json.dumps(log, indent=2) + "\n"


def github_data(value: str) -> str:
    """A workflow command's message, escaped as the runner expects."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(value: str) -> str:
    """A workflow command's property value (file=…, title=…), escaped."""
    return github_data(value).replace(":", "%3A").replace(",", "%2C")
