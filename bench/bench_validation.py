"""Validation benchmark: rtc's validator against the real kubeconform, on the same objects.

    python bench/bench_validation.py [--objects 20000] [--small 200] [--no-build]

Objects are the bundled catalog's rendered ClusterServingRuntimes, varied (name, labels,
image tag, sizes) to the requested count. Measured in one run:

1. rtc's validator in-process (what `rtc build` runs after normalize), ~200 and ~20 000 objects;
2. `rtc validate DIR` end to end (process start, YAML parsing, validation) on the files;
3. `kubeconform -strict` on the same files with the schemas `rtc schemas export` writes;
4. a full `rtc build` of a generated catalog with as many objects (copies of the demo
   cluster), to put validation's share of a build in proportion.

Work files go to bench/work/validation/ (git-ignored). Other benchmarks may import
`generate_objects` and `measure`.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from compiler.emit import to_yaml  # noqa: E402
from compiler.pipeline import build  # noqa: E402
from compiler.project import load_project  # noqa: E402
from compiler.validation import default_validator  # noqa: E402

WORK = REPO / "bench" / "work" / "validation"


def rendered_objects() -> list[dict[str, Any]]:
    result = build(load_project(REPO), jobs=1)
    assert result.ok, [d.format() for d in result.all_diagnostics]
    return [obj.body for render in result.renders if render.cluster for obj in render.cluster.objects]


def generate_objects(count: int) -> list[dict[str, Any]]:
    """`count` distinct, valid ClusterServingRuntimes made from the catalog's own."""
    base = rendered_objects()
    objects = []
    for index in range(count):
        obj = copy.deepcopy(base[index % len(base)])
        obj["metadata"]["name"] = f"{obj['metadata']['name']}-{index}"
        obj["metadata"]["labels"]["bench.rtc.io/index"] = str(index)
        container = obj["spec"]["containers"][0]
        image, _, tag = container["image"].rpartition(":")
        container["image"] = f"{image}:{tag}-b{index % 97}"
        container["resources"]["limits"]["memory"] = f"{6 + index % 8}Gi"
        objects.append(obj)
    return objects


def write_objects(objects: list[dict[str, Any]], directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for index, obj in enumerate(objects):
        (directory / f"clusterservingruntime-{index:05d}.yaml").write_text(to_yaml(obj), encoding="utf-8")


def measure(action: Callable[[], object], repeat: int = 3) -> float:
    """Best of `repeat` wall-clock runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def run(command: list[str], **kwargs: Any) -> None:
    proc = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command[:3])}... failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def kubeconform_binary() -> str:
    found = shutil.which("kubeconform") or shutil.which("kubeconform", path=str(REPO / ".tools" / "bin"))
    if not found:
        sys.exit("kubeconform not found: run `make tools`")
    return found


def generated_catalog(clusters: int) -> Path:
    """The bundled catalog with `clusters` copies of the demo cluster (8 objects each)."""
    root = WORK / "catalog"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for item in ("catalog", "hardware", "rtc.toml"):
        source = REPO / item
        if source.is_dir():
            shutil.copytree(source, root / item)
        else:
            shutil.copy2(source, root / item)
    (root / "overlays").mkdir()
    demo = (REPO / "overlays" / "demo.jsonnet").read_text(encoding="utf-8")
    for index in range(clusters):
        name = f"c{index:05d}"
        (root / "overlays" / f"{name}.jsonnet").write_text(demo.replace("name: 'demo'", f"name: '{name}'"))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--no-build", action="store_true", help="skip the full rtc build")
    args = parser.parse_args()
    rtc = [sys.executable, "-m", "compiler"]
    kubeconform = kubeconform_binary()
    schemas = WORK / "schemas"
    shutil.rmtree(schemas, ignore_errors=True)
    run([*rtc, "-q", "schemas", "export", str(schemas)])
    template = f"{schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json"
    validator = default_validator()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(f"{'objects':>8}  {'rtc in-process':>15}  {'rtc validate DIR':>17}  {'kubeconform -strict':>20}")
    large_in_process = 0.0
    for count in (args.small, args.objects):
        objects = generate_objects(count)
        validator.validate(objects[0])  # compile outside the timing, as a build does once per process
        assert all(validator.validate(o).status == "valid" for o in objects[:50])
        in_process = measure(lambda objects=objects: [validator.validate(o) for o in objects])
        directory = WORK / f"objects-{count}"
        write_objects(objects, directory)
        end_to_end = measure(lambda directory=directory: run([*rtc, "-q", "validate", str(directory)]), repeat=1)
        kc = measure(
            lambda directory=directory: run([kubeconform, "-strict", "-schema-location", template, str(directory)]),
            repeat=1,
        )
        per_object = in_process / count * 1e6
        print(f"{count:>8}  {in_process:>10.3f} s ({per_object:.0f} us/obj)  {end_to_end:>15.2f} s  {kc:>18.2f} s")
        large_in_process = in_process
    if args.no_build:
        return
    clusters = max(1, args.objects // 8)
    root = generated_catalog(clusters)
    build_seconds = measure(lambda: run([*rtc, "--root", str(root), "-q", "build"]), repeat=1)
    share = large_in_process / build_seconds * 100
    print(
        f"rtc build of {clusters} clusters ({clusters * 8} objects): {build_seconds:.1f} s wall; "
        f"validating {args.objects} objects in one process: {large_in_process:.2f} s = {share:.1f}% of the build"
    )


if __name__ == "__main__":
    main()
