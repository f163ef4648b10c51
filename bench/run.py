"""`make bench`: rtc against the engine alone and against Kapitan, on synthetic fleets, in one run.

For each scale (bench/workload.py) it writes a fresh workload and measures,
each as the median of --repeat runs of the real command line:
  - raw evaluation of every overlay by each engine (bench/raw.py): the lower bound;
  - `rtc build` cold (no out/, no cache), no-op, after editing one runtime,
    after editing one overlay; `rtc build --check` with and without the cache;
  - peak memory of a cold build (the whole process tree, sampled);
  - Kapitan compiling the equivalent inventory (same Jsonnet, YAML out);
  - YAML emission alone, rtc's emitter against the alternatives (bench/emitters.py).
Results go to bench/results/<scale>.json and the tables in bench/README.md.

    python -m bench.run --scales small,medium [--repeat 3] [--no-kapitan]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import emitters, report, workload

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / "work"
RESULTS = REPO / "bench" / "results"
KAPITAN_BIN = WORK / "kapitan-venv" / "bin"
_PAGE = os.sysconf("SC_PAGE_SIZE")
# Users' Python caches bytecode; a session that sets PYTHONDONTWRITEBYTECODE would make every
# run of rtc (and of Kapitan) compile its modules from source again.
# RTC_NO_SERVER: the bench starts `rtc server` itself, for the measurements that name it.
_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "RTC_NO_SERVER")}
_PROGRESS = re.compile(r"^rtc: ([a-z0-9-]+): .*\((unchanged, from the cache|[0-9.]+s)\)$", re.MULTILINE)


class Trash:
    """Where outputs go between runs: moved aside, deleted when the whole bench is done.

    Deleting a tree right before a timed run would time the file system, not the
    tool: on a journal-less ext4 (this machine's) the kernel skips inodes freed in the
    last minute or more and rescans them for every file it creates, so after an
    `rm -rf` of 2 000 files each new file costs ~0.5 ms more (docs/performance.md,
    section 6). A fresh clone or a CI checkout has deleted nothing. rtc and Kapitan
    get the same treatment."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def move(self, path: Path) -> None:
        if not path.exists():
            return
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        path.rename(self.folder / f"{self.count:05d}-{path.name}")

    def empty(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


TRASH = Trash(WORK / "trash")


@dataclass
class Run:
    seconds: float
    code: int
    stdout: str
    stderr: str
    peak_tree_rss: int = 0


def _tree_rss(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(pid, []))
    return total


def run(command: list[str], cwd: Path, *, sample_memory: bool = False, env: dict[str, str] | None = None) -> Run:
    """Run a command, timing it; with `sample_memory`, also its process tree's peak RSS
    (sampling costs CPU, so timed runs do not sample)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env or _ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_memory:
        sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    if sample_memory:
        sampler.join()
    return Run(seconds, process.returncode, stdout, stderr, peak[0])


def largest_process_rss(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    """The largest resident set of any single process the command starts, in bytes:
    ru_maxrss of the children of a fresh helper process that runs only it."""
    helper = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", helper, *command], cwd=cwd, env=_ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return int(done.stdout.strip().splitlines()[-1])


def _must(result: Run, what: str) -> Run:
    if result.code != 0:
        raise SystemExit(f"bench: {what} failed (exit {result.code}):\n{result.stderr[-3000:]}")
    return result


def _summary(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "runs": values}


def _rebuilt(stderr: str) -> int:
    return sum(1 for _, timing in _PROGRESS.findall(stderr) if timing != "unchanged, from the cache")


def _edit(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, replacement, text, count=1)
    if count != 1:
        raise SystemExit(f"bench: cannot edit {path}: no match for {pattern!r}")
    path.write_text(new, encoding="utf-8")


class ScaleBench:
    def __init__(self, scale: workload.Scale, repeat: int, kapitan: bool) -> None:
        self.scale = scale
        self.repeat = repeat
        self.kapitan = kapitan
        self.root = WORK / scale.name
        self.rtc = [sys.executable, "-m", "compiler", "--root", str(self.root)]
        self.results: dict[str, Any] = {}
        # rtc's per-user cache (converted CRD schemas, shellcheck results), kept apart from the
        # developer's own: emptied only to time a first build on a fresh machine.
        self.user_cache = WORK / f"{scale.name}-user-cache"
        self.env = _ENV | {"RTC_CACHE_DIR": str(self.user_cache)}

    def clean(self) -> None:
        for name in ("out", ".rtc-cache"):
            TRASH.move(self.root / name)

    def rtc_run(self, *args: str, what: str, sample_memory: bool = False) -> Run:
        return _must(run([*self.rtc, *args], self.root, sample_memory=sample_memory, env=self.env), what)

    def measure(self) -> dict[str, Any]:
        TRASH.move(self.root)  # an earlier bench's workload, out/ and all
        self.written = workload.write(self.scale, self.root)
        loads = [os.getloadavg()[0]]
        self.raw()
        self.builds()
        if self.kapitan:
            self.kapitan_compile()
        self.emission()
        loads.append(os.getloadavg()[0])
        self.results["conditions"] = {"load_average_1min_before_after": loads}
        self.results["workload"] = self.written.to_json() | {"root": str(self.root.relative_to(REPO))}
        return self.results

    def raw(self) -> None:
        variants = {
            "raw_rjsonnet_default": ["--engine", "rjsonnet", "--mode", "default"],
            "raw_rjsonnet_nogc_1proc": ["--engine", "rjsonnet", "--mode", "no-gc", "--jobs", "1"],
            "raw_rjsonnet_nogc_parallel": ["--engine", "rjsonnet", "--mode", "no-gc", "--jobs", str(os.cpu_count())],
            "raw_gojsonnet_default": ["--engine", "gojsonnet", "--mode", "default"],
        }
        for name, options in variants.items():
            # go-jsonnet takes minutes on the large workload: one run says enough.
            repeat = 1 if "gojsonnet" in name and self.scale.objects > 5000 else self.repeat
            seconds = []
            for _ in range(repeat):
                done = _must(run([sys.executable, "-m", "bench.raw", *options, str(self.root)], REPO), name)
                seconds.append(json.loads(done.stdout)["seconds"])
            self.results[name] = _summary(seconds)
            print(f"  {name}: {statistics.median(seconds):.2f}s", flush=True)

    def builds(self) -> None:
        self.rtc_run("server", "stop", what="server stop")  # one an interrupted bench left
        first = []
        for _ in range(self.repeat):
            self.clean()
            TRASH.move(self.user_cache)
            first.append(self.rtc_run("-q", "build", what="first build").seconds)
        self.results["rtc_build_first_on_machine"] = _summary(first)
        print(f"  rtc build, first on the machine: {statistics.median(first):.2f}s", flush=True)

        cold = []
        for _ in range(self.repeat):
            self.clean()
            cold.append(self.rtc_run("-q", "build", what="cold build").seconds)
        self.results["rtc_build_cold"] = _summary(cold)
        print(f"  rtc build cold: {statistics.median(cold):.2f}s", flush=True)

        self.clean()
        memory = self.rtc_run("-q", "build", what="cold build (memory)", sample_memory=True)
        self.clean()
        largest = largest_process_rss([*self.rtc, "-q", "build"], self.root, self.env)
        self.results["rtc_build_cold_peak_rss"] = {
            "process_tree_bytes": memory.peak_tree_rss,
            "largest_process_bytes": largest,
        }
        print(f"  peak RSS: {memory.peak_tree_rss / 2**20:.0f} MiB (tree)", flush=True)

        self.results["rtc_build_noop"] = self._repeat_build("no-op", lambda i: None)

        runtime = self.root / self.written.touched_runtime
        self.results["rtc_build_touch_runtime"] = self._repeat_build(
            "one runtime edited",
            lambda i: _edit(runtime, r"local version = '[^']*';", f"local version = '9.{i}.{time.time_ns() % 1000}';"),
        )
        self.results["rtc_build_touch_runtime"]["targets_importing_it"] = self.written.targets_importing_touched_runtime

        overlay = self.root / self.written.touched_overlay
        self.results["rtc_build_touch_overlay"] = self._repeat_build(
            "one overlay edited", lambda i: _edit(overlay, r"memory='[0-9]+Gi'", f"memory='{33 + i}Gi'")
        )

        self.server_builds(runtime, overlay)

        check = [self.rtc_run("-q", "build", "--check", what="check").seconds for _ in range(self.repeat)]
        self.results["rtc_build_check"] = _summary(check)
        check_cold = [
            self.rtc_run("-q", "build", "--check", "--no-cache", what="check --no-cache").seconds
            for _ in range(self.repeat)
        ]
        self.results["rtc_build_check_no_cache"] = _summary(check_cold)
        print(f"  check: {statistics.median(check):.2f}s, without cache {statistics.median(check_cold):.2f}s")

    def server_builds(self, runtime: Path, overlay: Path) -> None:
        """The edit loop with `rtc server` running (started here, stopped before anything else is timed)."""
        self.rtc_run("server", "start", "--idle", "600", what="server start")
        try:
            self.results["rtc_build_server_touch_runtime"] = self._repeat_build(
                "one runtime edited, server running",
                lambda i: _edit(
                    runtime, r"local version = '[^']*';", f"local version = '8.{i}.{time.time_ns() % 1000}';"
                ),
            )
            self.results["rtc_build_server_touch_overlay"] = self._repeat_build(
                "one overlay edited, server running",
                lambda i: _edit(overlay, r"memory='[0-9]+Gi'", f"memory='{53 + i}Gi'"),
            )
        finally:
            self.rtc_run("server", "stop", what="server stop")

    def _repeat_build(self, what: str, prepare: Any) -> dict[str, Any]:
        seconds, rebuilt = [], []
        for i in range(self.repeat):
            prepare(i)
            done = self.rtc_run("build", what=what)
            seconds.append(done.seconds)
            rebuilt.append(_rebuilt(done.stderr))
        print(f"  rtc build, {what}: {statistics.median(seconds):.2f}s ({rebuilt[-1]} targets rendered)", flush=True)
        return _summary(seconds) | {"targets_rendered": rebuilt}

    def kapitan_compile(self) -> None:
        kapitan = KAPITAN_BIN / "kapitan"
        if not kapitan.exists():
            raise SystemExit(f"bench: {kapitan} is missing; `make bench` installs it (bench/kapitan-requirements.txt)")
        configurations = {
            # Kapitan's fastest options: go-jsonnet, the Rust inventory, the rapidyaml emitter.
            "kapitan_fast": ["--use-go-jsonnet", "--inventory-backend", "reclass-rs", "--yaml-use-rapidyaml"],
            # Its defaults (C++ jsonnet, reclass, PyYAML): minutes per thousand objects.
            "kapitan_default": [],
        }
        for name, options in configurations.items():
            if name == "kapitan_default" and self.scale.objects > 500:
                continue
            seconds = []
            repeat = self.repeat if self.scale.objects <= 5000 else 1
            _must(run([str(kapitan), "--version"], self.root), "kapitan --version")  # bytecode, page cache
            for _ in range(repeat):
                output = self.root / "kapitan-out"
                TRASH.move(output)
                command = [
                    str(kapitan),
                    "compile",
                    "--inventory-path",
                    "kapitan/inventory",
                    "--output-path",
                    str(output),
                    "--search-paths",
                    ".",
                    "--parallelism",
                    str(os.cpu_count()),
                    *options,
                ]
                done = _must(run(command, self.root), name)
                files = sum(1 for p in (output / "compiled").rglob("*.yaml"))
                if files != self.scale.objects:
                    raise SystemExit(f"bench: {name} wrote {files} files, expected {self.scale.objects}")
                seconds.append(done.seconds)
            self.results[name] = _summary(seconds)
            print(f"  {name}: {statistics.median(seconds):.2f}s", flush=True)

    def emission(self) -> None:
        from compiler.pipeline import build
        from compiler.project import load_project

        result = build(load_project(self.root))  # from the cache: the objects as the last build had them
        bodies = [obj.body for render in result.renders if render.cluster for obj in render.cluster.objects]
        python = KAPITAN_BIN / "python" if self.kapitan else None
        self.results["yaml_emission"] = emitters.measure(bodies, self.repeat, python)
        for name, found in self.results["yaml_emission"].items():
            print(f"  emit, {name}: {found['seconds']:.3f}s (canonical: {found['canonical']})", flush=True)


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "compiler"], cwd=REPO, capture_output=True, text=True)
    return {
        "bytecode_cache": "on (PYTHONDONTWRITEBYTECODE unset for every timed command)",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "rtc_commit": commit.stdout.strip() + ("+changes" if dirty.stdout.strip() else ""),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="small,medium", help="comma-separated: small, medium, large")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (the median is reported)")
    parser.add_argument("--no-kapitan", action="store_true", help="skip the Kapitan comparison")
    args = parser.parse_args()
    names = [n.strip() for n in args.scales.split(",") if n.strip()]
    unknown = [n for n in names if n not in workload.SCALES]
    if unknown:
        raise SystemExit(f"bench: unknown scale(s) {', '.join(unknown)}; choose from {', '.join(workload.SCALES)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    TRASH.empty()  # a killed run's leftovers (rarely any): deleted before anything is timed
    for name in names:
        scale = workload.SCALES[name]
        print(f"bench: {name} ({scale.objects} objects, {scale.clusters} clusters)", flush=True)
        results = ScaleBench(scale, args.repeat, not args.no_kapitan).measure()
        results["machine"] = machine()
        results["repeat"] = args.repeat
        path = RESULTS / f"{name}.json"
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"bench: wrote {path.relative_to(REPO)}", flush=True)
    report.write_readme(RESULTS, REPO / "bench" / "README.md")
    print("bench: updated bench/README.md", flush=True)
    TRASH.empty()


if __name__ == "__main__":
    main()
