"""The build cache: unchanged targets are neither evaluated nor rewritten; out/ is always what a clean build gives."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import shutil
from pathlib import Path

import pytest

from compiler import pipeline
from compiler.cache import CACHE_DIR_NAME
from compiler.diagnostics import Diagnostic
from compiler.model import ClusterRender
from compiler.output import apply
from compiler.pipeline import BuildResult, build
from compiler.project import load_project
from compiler.targets import DELIVERY_FOLDERS
from compiler.validation import rendered
from compiler.validation.rendered import validate_cluster
from compiler.validation.validator import Validator
from tests.conftest import REPO, copy_catalog, snapshot


def build_and_write(root: Path, **options: object) -> BuildResult:
    project = load_project(root)
    result = build(project, **options)  # type: ignore[arg-type]
    if result.ok and result.plan is not None:
        apply(project.root, project.out_dir, result.plan)
    return result


def from_cache(result: BuildResult) -> dict[str, bool]:
    """Per cluster target (the GitOps folders are rendered after them, every build)."""
    return {r.target.name: r.from_cache for r in result.renders if r.target.name not in DELIVERY_FOLDERS}


def entries(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo / CACHE_DIR_NAME).glob("*.entry"))


def out_stats(root: Path) -> dict[str, tuple[int, int]]:
    return {
        path.relative_to(root).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in sorted((root / "out").rglob("*"))
    }


def test_no_op_rebuild_evaluates_nothing_and_rewrites_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_and_write(repo)
    assert first.ok and from_cache(first) == {"demo": False, "prod-airgap": False}
    before, stats_before = snapshot(repo / "out"), out_stats(repo)

    def no_rendering(*args: object, **kwargs: object) -> list[pipeline.TargetRender]:
        assert not args[1], "a target was rendered although nothing changed"
        return []

    monkeypatch.setattr(pipeline, "render_targets", no_rendering)
    second = build_and_write(repo)
    assert second.ok and from_cache(second) == {"demo": True, "prod-airgap": True}
    assert second.cache is not None and (second.cache.stats.hits, second.cache.stats.misses) == (2, 0)
    assert second.plan is not None and second.plan.is_current
    assert snapshot(repo / "out") == before
    assert out_stats(repo) == stats_before  # not even rewritten with the same bytes


def test_a_cached_render_is_the_whole_render(repo: Path) -> None:
    fresh = build(load_project(repo))
    cached = build(load_project(repo))
    assert all(from_cache(cached).values())
    for a, b in zip(fresh.renders, cached.renders, strict=True):
        # Every field a stage fills in, including those other stages add later.
        for name in a.__dataclass_fields__:
            if name not in ("seconds", "from_cache"):
                assert getattr(a, name) == getattr(b, name), name


def test_an_edit_rebuilds_only_the_targets_that_import_the_file(repo: Path) -> None:
    build_and_write(repo)
    mindie = repo / "catalog/mindie/main.libsonnet"  # only demo offers MindIE
    mindie.write_text(mindie.read_text().replace("timeoutSeconds: 180", "timeoutSeconds: 240"))
    result = build_and_write(repo)
    assert from_cache(result) == {"demo": False, "prod-airgap": True}
    assert result.plan is not None and result.plan.changed == ["demo/clusterservingruntime-mindie-2.2rc1-310p.yaml"]
    script = repo / "catalog/triton/startup.sh"  # both clusters offer Triton
    script.write_text(script.read_text() + "# a comment\n")
    assert from_cache(build_and_write(repo)) == {"demo": False, "prod-airgap": False}
    assert from_cache(build_and_write(repo)) == {"demo": True, "prod-airgap": True}


def test_a_new_file_that_an_import_would_now_find_invalidates(repo: Path) -> None:
    before = build_and_write(repo)
    # Overlays import 'catalog/lib/rtc.libsonnet'; resolution tries overlays/catalog/lib/ first.
    shadow = repo / "overlays/catalog/lib/rtc.libsonnet"
    shadow.parent.mkdir(parents=True)
    library = (repo / "catalog/lib/rtc.libsonnet").read_text()
    shadow.write_text(
        library.replace("import 'platforms/", "import 'catalog/lib/platforms/").replace(
            "local kserveContainer = 'kserve-container';", "local kserveContainer = 'main';"
        )
    )
    result = build_and_write(repo)
    assert from_cache(result) == {"demo": False, "prod-airgap": False}
    shutil.copytree(repo, repo.parent / "clean", ignore=shutil.ignore_patterns(CACHE_DIR_NAME, "out"))
    clean = build(load_project(repo.parent / "clean"), use_cache=False)
    assert result.ok and result.files == clean.files
    # The overlay's patches now look for a container named "main": the mirror is no longer applied.
    triton = "prod-airgap/clusterservingruntime-aml-triton-cuda-12.yaml"
    assert b"registry.prod.internal" in before.files[triton]
    assert b"registry.prod.internal" not in result.files[triton]


def test_settings_and_engine_are_part_of_the_key(repo: Path) -> None:
    build_and_write(repo)
    config = repo / "rtc.toml"
    config.write_text(config.read_text() + "\n# a comment changes the fingerprint\n")
    assert from_cache(build_and_write(repo)) == {"demo": False, "prod-airgap": False}
    assert from_cache(build_and_write(repo, engine_name="gojsonnet")) == {"demo": False, "prod-airgap": False}
    assert from_cache(build_and_write(repo, engine_name="gojsonnet")) == {"demo": True, "prod-airgap": True}
    assert from_cache(build_and_write(repo, engine_name="rjsonnet")) == {"demo": True, "prod-airgap": True}
    assert entries(repo) == [
        "demo.gojsonnet.entry",
        "demo.rjsonnet.entry",
        "prod-airgap.gojsonnet.entry",
        "prod-airgap.rjsonnet.entry",
    ]


def test_failed_targets_are_not_cached(repo: Path) -> None:
    overlay = repo / "overlays/prod-airgap.jsonnet"
    overlay.write_text(overlay.read_text().replace("patches: [", "patches: [[", 1))
    first = build_and_write(repo)
    second = build_and_write(repo)
    assert not first.ok and not second.ok
    assert from_cache(second) == {"demo": True, "prod-airgap": False}
    assert [d.format() for d in first.all_diagnostics] == [d.format() for d in second.all_diagnostics]


def _corruptions(entry: bytes) -> dict[str, bytes]:
    header, body = entry.split(b"\n", 1)
    fields = json.loads(header)
    size = fields["render_size"]
    render, objects = body[:size], body[size:]
    wrong_type = pickle.dumps({"files": {}})
    forged = dict(fields, render=hashlib.sha256(wrong_type).hexdigest(), render_size=len(wrong_type))

    def flip(blob: bytes) -> bytes:
        middle = len(blob) // 2
        return blob[:middle] + bytes([blob[middle] ^ 0xFF]) + blob[middle + 1 :]

    return {
        "empty": b"",
        "truncated": entry[: len(entry) // 2],
        "flipped render byte": header + b"\n" + flip(render) + objects,
        "flipped objects byte": header + b"\n" + render + flip(objects),
        "objects missing": header + b"\n" + render,
        "garbage header": b"{not json\n" + body,
        "header only": header + b"\n",
        "other format": json.dumps(dict(fields, format=999)).encode() + b"\n" + body,
        "other imports": json.dumps(dict(fields, imports={"catalog/x": "0" * 64})).encode() + b"\n" + body,
        "not a render": json.dumps(forged).encode() + b"\n" + wrong_type + objects,
        "binary noise": os.urandom(4096),
    }


def test_broken_entries_are_ignored_and_replaced(repo: Path) -> None:
    reference = build_and_write(repo)
    entry_path = repo / CACHE_DIR_NAME / "demo.rjsonnet.entry"
    for name, data in _corruptions(entry_path.read_bytes()).items():
        entry_path.write_bytes(data)
        result = build_and_write(repo)
        assert result.ok, name
        assert from_cache(result) == {"demo": False, "prod-airgap": True}, name
        assert result.files == reference.files, name
        assert from_cache(build_and_write(repo)) == {"demo": True, "prod-airgap": True}, name


def test_a_build_that_keeps_no_objects_loads_only_files_and_diagnostics(repo: Path) -> None:
    full = build_and_write(repo)
    light = build(load_project(repo), keep_objects=False)
    assert all(from_cache(light).values())
    clusters = [r for r in light.renders if r.target.name not in DELIVERY_FOLDERS]
    assert [len(r.cluster.objects) for r in clusters if r.cluster] == [0, 0]
    assert [r.object_count for r in clusters] == [8, 3]
    assert light.files == full.files
    # The objects are still in the entries for a build that wants them.
    again = build(load_project(repo))
    assert all(from_cache(again).values())
    assert [r.cluster for r in again.renders] == [r.cluster for r in full.renders]


def test_a_target_copied_over_another_ones_entry_is_not_trusted(repo: Path) -> None:
    build_and_write(repo)
    cache = repo / CACHE_DIR_NAME
    shutil.copy(cache / "prod-airgap.rjsonnet.entry", cache / "demo.rjsonnet.entry")
    result = build_and_write(repo)
    assert from_cache(result) == {"demo": False, "prod-airgap": True}
    assert len([p for p in result.files if p.startswith("demo/")]) == 9


def test_removed_targets_lose_their_entries_and_files(repo: Path) -> None:
    build_and_write(repo)
    (repo / "overlays/prod-airgap.jsonnet").unlink()
    result = build_and_write(repo)
    assert list(from_cache(result)) == ["demo"]
    assert entries(repo) == ["demo.rjsonnet.entry"]
    assert not (repo / "out/prod-airgap").exists()


# ---------------------------------------------------------------- random edit sequences

RUNTIMES = ("mindie", "mlserver", "triton", "vllm", "vllm-ascend", "xinference")
HARDWARE = ("ascend-310p", "ascend-910b4", "cpu", "nvidia-cuda-11.6", "nvidia-cuda-12.1")


def _replace_first(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old in text:
        path.write_text(text.replace(old, new, 1))


def _edit(root: Path, rng: random.Random, step: int) -> str:
    """One random edit of the kind a pull request makes, applied to `root`."""
    kind = rng.choice(
        ["runtime", "script", "hardware", "overlay", "comment", "syntax", "new-overlay", "drop-overlay", "shadow"]
    )
    token = f"{step}-{rng.randrange(1000)}"
    if kind == "runtime":
        runtime = root / f"catalog/{rng.choice(RUNTIMES)}/main.libsonnet"
        _replace_first(runtime, "resources: rtc.resources(cpu=2,", f"resources: rtc.resources(cpu={2 + step % 3},")
        _replace_first(runtime, "spec: {", f"labels+: {{ 'edit/{step}': '{token}' }},\n  spec: {{")
    elif kind == "script":
        script = root / f"catalog/{rng.choice(RUNTIMES)}/startup.sh"
        script.write_text(script.read_text() + f"echo 'edit {token}'\n")
    elif kind == "hardware":
        hardware = root / f"hardware/{rng.choice(HARDWARE)}.libsonnet"
        text = hardware.read_text()
        hardware.write_text(text.replace("nameSuffix:", f"// revision {token}\n  nameSuffix:", 1))
        _replace_first(hardware, "version: '", f"version: '{step}.")
    elif kind == "overlay":
        overlays = sorted((root / "overlays").glob("*.jsonnet"))
        if overlays:
            overlay = rng.choice(overlays)
            _replace_first(
                overlay, "name: ", f"patches+: [rtc.patch.labels({{ 'edit/{step}': '{token}' }})],\n  name: "
            )
    elif kind == "comment":
        target = rng.choice(sorted((root / "catalog").rglob("*.libsonnet")) + sorted((root / "hardware").glob("*")))
        target.write_text(target.read_text() + f"// note {token}\n")
    elif kind == "syntax":
        broken = [p for p in sorted(root.rglob("*sonnet")) if "BROKEN" in p.read_text()]
        if broken:  # fix what an earlier step broke
            for path in broken:
                path.write_text(path.read_text().replace(",, // BROKEN", ","))
        else:
            path = rng.choice(sorted((root / "catalog").glob("*/main.libsonnet")))
            _replace_first(path, ",\n", ",, // BROKEN\n")
    elif kind == "new-overlay":
        source = root / "overlays/prod-airgap.jsonnet"
        if source.exists():
            name = f"edge-{step}"
            (root / f"overlays/{name}.jsonnet").write_text(source.read_text().replace("'prod-airgap'", f"'{name}'"))
    elif kind == "drop-overlay":
        extra = sorted((root / "overlays").glob("edge-*.jsonnet"))
        if extra:
            rng.choice(extra).unlink()
    else:  # a file that an existing import now resolves to, then gone again
        shadow = root / "overlays/catalog/lib/platforms/alauda.libsonnet"
        if shadow.exists():
            shutil.rmtree(root / "overlays/catalog")
        else:
            shadow.parent.mkdir(parents=True)
            shutil.copytree(root / "catalog/lib", root / "overlays/catalog/lib", dirs_exist_ok=True)
            _replace_first(shadow, "'cpaas.io/runtime-class'", "'cpaas.io/engine'")
    return kind


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_builds_match_clean_builds_after_random_edits(tmp_path: Path, seed: int) -> None:
    incremental = copy_catalog(tmp_path / "incremental")
    rng = random.Random(seed)
    build_and_write(incremental, jobs=2)
    shutil.copytree(incremental / "out", tmp_path / "previous-out")
    kinds = []
    for step in range(12):
        kinds.append(_edit(incremental, rng, step))
        result = build_and_write(incremental, jobs=2)
        # A clean build of the same sources: a fresh copy, its out/ as the incremental one was
        # before this build (a failed build leaves it as it was), and no cache.
        clean = tmp_path / f"clean-{step}"
        shutil.copytree(incremental, clean, ignore=shutil.ignore_patterns(CACHE_DIR_NAME, "out"))
        if (tmp_path / "previous-out").exists():
            shutil.copytree(tmp_path / "previous-out", clean / "out")
        reference = build_and_write(clean, jobs=1, use_cache=False)
        assert result.ok == reference.ok, (seed, kinds)
        assert [d.format() for d in result.all_diagnostics] == [d.format() for d in reference.all_diagnostics]
        assert snapshot(incremental / "out") == snapshot(clean / "out"), (seed, kinds)
        shutil.rmtree(tmp_path / "previous-out", ignore_errors=True)
        shutil.copytree(incremental / "out", tmp_path / "previous-out")
        shutil.rmtree(clean)
    assert any(kind in kinds for kind in ("runtime", "script", "hardware", "overlay"))


def test_gitops_folders_are_validated_again_only_when_their_files_change(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = build_and_write(repo)
    validated: list[str] = []
    real = validate_cluster

    def counting(folder: ClusterRender, validator: Validator, out_dir_name: str) -> list[Diagnostic]:
        validated.append(folder.cluster)
        return real(folder, validator, out_dir_name)

    # The pipeline imports it where it validates (a no-op build never loads validation).
    monkeypatch.setattr(rendered, "validate_cluster", counting)
    assert build_and_write(repo).files == reference.files
    assert validated == []
    for memo in (repo / CACHE_DIR_NAME).glob("*.memo"):
        memo.write_bytes(b"{broken\n")
    assert build_and_write(repo).files == reference.files
    assert sorted(validated) == ["argocd", "flux"]
    overlay = repo / "overlays/demo.jsonnet"
    overlay.write_text(overlay.read_text().replace("revision: 'main'", "revision: 'release'"))
    validated.clear()
    build_and_write(repo)
    assert "argocd" in validated


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_oversized_object_fails_every_build_and_is_never_cached(repo: Path, jobs: int) -> None:
    """limits.object-bytes is checked where the render is made: a worker hands back
    no objects (rtc build), and a render it rejects must not come back from the cache."""
    shutil.copyfile(
        REPO / "tests/bad_inputs/size-huge-string/overlays/broken.jsonnet", repo / "overlays/broken.jsonnet"
    )
    for _ in range(2):
        result = build_and_write(repo, jobs=jobs, keep_objects=False)
        assert not result.ok
        assert [d.code for d in result.all_diagnostics if d.code == "E113"] == ["E113"]
        assert from_cache(result)["broken"] is False
    assert not (repo / "out/broken").exists()
