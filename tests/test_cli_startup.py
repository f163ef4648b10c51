"""A build that renders loads the render stages (validation, lint and its rules)
once, in the parent, so that the forked workers inherit them. Which modules a
process loaded is what this checks; how long that takes is measured in
docs/performance.md, never here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Loaded by rendering a target, never by a build whose targets all come from the cache.
RENDER_STAGES = ("compiler.validation", "compiler.validation.rendered", "compiler.lint_inputs", "compiler.rules")


def test_forked_workers_inherit_the_render_stages(repo: Path) -> None:
    """-X importtime reports each import in the process that makes it, forked workers included:
    a stage imported in a worker too would be reported once per target."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "compiler", "--root", str(repo), "build", "--no-cache", "-j", "2"],
        capture_output=True,
        text=True,
        check=False,
        cwd=repo,
    )
    assert proc.returncode == 0, proc.stderr
    assert "rtc: demo: 8 objects" in proc.stderr and "rtc: prod-airgap:" in proc.stderr
    imports = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert {stage: imports.count(stage) for stage in RENDER_STAGES} == dict.fromkeys(RENDER_STAGES, 1)
