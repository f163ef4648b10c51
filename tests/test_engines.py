"""The default engine is the fastest one whose output is byte-identical to go-jsonnet's."""

from __future__ import annotations

from pathlib import Path

from bench import workload
from compiler.pipeline import BuildResult, build
from compiler.project import DEFAULT_ENGINE, load_project


def files_by_target(result: BuildResult) -> dict[str, dict[str, bytes]]:
    assert result.ok, [d.format() for d in result.all_diagnostics]
    return {render.target.name: render.files for render in result.renders}


def test_default_engine_matches_go_jsonnet_on_every_target_of_the_bundled_catalog(repo: Path) -> None:
    # jrsonnet is the default because it is the fastest (docs/performance.md) and this holds.
    assert DEFAULT_ENGINE == "rjsonnet"
    project = load_project(repo)
    fast = files_by_target(build(project, engine_name=DEFAULT_ENGINE, jobs=1, use_cache=False))
    reference = files_by_target(build(project, engine_name="gojsonnet", jobs=1, use_cache=False))
    assert sorted(fast) == sorted(reference) == ["argocd", "demo", "flux", "prod-airgap"]
    for target, files in reference.items():
        assert sorted(fast[target]) == sorted(files), target
        for path, data in files.items():
            assert fast[target][path] == data, f"{path} differs between rjsonnet and gojsonnet"


def test_engines_agree_on_bench_clusters_using_every_library_feature(tmp_path: Path) -> None:
    # fleet-001: alauda, image mirror; fleet-004: kserve platform; fleet-005: namespaced
    # ServingRuntimes; together they use hardware patches, variants and every patch helper.
    written = workload.write(workload.SCALES["small"], tmp_path / "small")
    project = load_project(Path(written.root))
    chosen = ("fleet-001", "fleet-004", "fleet-005")
    fast = files_by_target(build(project, chosen, engine_name="rjsonnet", jobs=1, use_cache=False))
    reference = files_by_target(build(project, chosen, engine_name="gojsonnet", jobs=1, use_cache=False))
    assert fast == reference
    assert [len(fast[name]) for name in chosen] == [32 + 1] * 3
