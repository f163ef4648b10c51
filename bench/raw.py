"""The lower bound: the engine alone evaluating every overlay of a workload.

No import callback, no JSON parsing, no YAML, no files written: the engine's
own file importer with the repository root as the library path, the output
string discarded. Prints one JSON line {"seconds": ..., "objects_bytes": ...}.

    python -m bench.raw --engine rjsonnet --mode default ROOT
    modes: default     the binding's defaults, all overlays in this one process
           no-gc       rjsonnet only: gc=False, each overlay in a forked process
                       that exits after it (what rtc's workers do), --jobs at a time
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any


def evaluate(engine: str, entry: str, root: str, gc: bool) -> int:
    module: Any
    if engine == "rjsonnet":
        import rjsonnet

        module = rjsonnet
        return len(module.evaluate_file(entry, jpathdir=[root], gc=gc))
    import _gojsonnet

    module = _gojsonnet
    return len(module.evaluate_file(entry, jpathdir=[root]))


def run_in_process(engine: str, entries: list[str], root: str) -> int:
    return sum(evaluate(engine, entry, root, gc=True) for entry in entries)


def run_forked(engine: str, entries: list[str], root: str, jobs: int) -> int:
    """One process per overlay, gc off, `jobs` at a time; the parent only waits."""
    running: set[int] = set()
    for entry in entries:
        if len(running) >= jobs:
            pid, _ = os.wait()
            running.discard(pid)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                evaluate(engine, entry, root, gc=False)
            finally:
                os._exit(0)
        running.add(pid)
    for pid in running:
        os.waitpid(pid, 0)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("rjsonnet", "gojsonnet"), required=True)
    parser.add_argument("--mode", choices=("default", "no-gc"), default="default")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("root", type=Path)
    args = parser.parse_args()
    root = str(args.root.resolve())
    os.chdir(root)
    entries = sorted(f"overlays/{p.name}" for p in Path("overlays").glob("*.jsonnet"))
    # Load the engine before the clock starts, as rtc's workers have it loaded.
    warm_up = Path("overlays") / ".bench-warm-up.jsonnet"
    warm_up.write_text("{}\n", encoding="utf-8")
    try:
        evaluate(args.engine, str(warm_up), root, gc=True)
    finally:
        warm_up.unlink()
    started = time.perf_counter()
    if args.mode == "default":
        size = run_in_process(args.engine, entries, root)
    else:
        size = run_forked(args.engine, entries, root, args.jobs)
    print(json.dumps({"seconds": time.perf_counter() - started, "output_bytes": size, "entries": len(entries)}))


if __name__ == "__main__":
    main()
