"""The hermetic importer and the limits table, unit by unit (the bad-input
corpus runs the same rules end to end through both engines)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.evaluate import HermeticImporter, ImportRefused, UnreadableSource
from compiler.limits import Limits, parse_limits
from compiler.project import ProjectError, load_project


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for folder in ("catalog/lib", "hardware", "overlays", "vendor/jsonnet"):
        (root / folder).mkdir(parents=True)
    (root / "rtc.toml").write_text('[rtc]\nlibrary-paths = ["vendor/jsonnet"]\n', encoding="utf-8")
    (root / "catalog/lib/a.libsonnet").write_text("{ a: 1 }", encoding="utf-8")
    (root / "vendor/jsonnet/k.libsonnet").write_text("{ k: 1 }", encoding="utf-8")
    return root


def importer(root: Path) -> HermeticImporter:
    return HermeticImporter(load_project(root))


def test_library_paths_are_searched_after_the_importing_folder(project_root: Path) -> None:
    found, text = importer(project_root)("overlays", "k.libsonnet")
    assert (found, text) == ("vendor/jsonnet/k.libsonnet", "{ k: 1 }")


def test_a_climbing_import_is_refused_even_when_a_library_path_would_match(project_root: Path) -> None:
    (project_root / "vendor/jsonnet/x.libsonnet").write_text("{}", encoding="utf-8")
    with pytest.raises(ImportRefused, match="leaves the repository"):
        importer(project_root)("overlays", "../../x.libsonnet")


def test_links_inside_the_sources_are_followed_links_out_are_not(project_root: Path) -> None:
    os.symlink("../catalog/lib/a.libsonnet", project_root / "hardware/alias.libsonnet")
    assert importer(project_root)("hardware", "alias.libsonnet")[1] == "{ a: 1 }"
    os.symlink("../rtc.toml", project_root / "hardware/config.libsonnet")
    with pytest.raises(ImportRefused, match=r"is a symbolic link to .*rtc\.toml, outside the source folders"):
        importer(project_root)("hardware", "config.libsonnet")


def test_special_files_are_not_read(project_root: Path) -> None:
    os.mkfifo(project_root / "catalog/pipe.libsonnet")  # reading it would block forever
    with pytest.raises(ImportRefused, match="not found"):
        importer(project_root)("catalog", "pipe.libsonnet")


def test_every_file_read_is_recorded_with_its_hash(project_root: Path) -> None:
    imp = importer(project_root)
    imp("overlays", "k.libsonnet")
    imp("overlays", "catalog/lib/a.libsonnet")
    assert sorted(imp.files) == ["catalog/lib/a.libsonnet", "vendor/jsonnet/k.libsonnet"]
    assert all(len(digest) == 64 for digest in imp.files.values())


def test_undecodable_files_say_where(project_root: Path) -> None:
    (project_root / "catalog/lib/bad.libsonnet").write_bytes(b"{\n  a: 'caf\xe9',\n}\n")
    with pytest.raises(UnreadableSource) as refused:
        importer(project_root)("catalog/lib", "bad.libsonnet")
    assert str(refused.value.span) == "catalog/lib/bad.libsonnet:2:10"


def test_locate_refusal_skips_comments_and_follows_split_lines(project_root: Path) -> None:
    overlay = "// import '/etc/x'\n/* importstr '/etc/x' */ local a =\n  importstr\n    '/etc/x';\na\n"
    (project_root / "overlays/o.jsonnet").write_text(overlay, encoding="utf-8")
    imp = importer(project_root)
    imp(".", "overlays/o.jsonnet")
    with pytest.raises(ImportRefused):
        imp("overlays", "/etc/x")
    assert str(imp.locate_refusal()) == "overlays/o.jsonnet:3:3"


def test_limits_defaults_and_parsing() -> None:
    assert parse_limits(None) == Limits()
    assert parse_limits({"eval-seconds": 0, "max-stack": 200}) == Limits(eval_seconds=0, max_stack=200)
    assert parse_limits({"eval-seconds": 2.5}).eval_seconds == 2.5
    for table, message in [
        ({"max-stack": 0}, "limits.max-stack must be a positive whole number, got 0"),
        ({"object-bytes": 1.5}, "limits.object-bytes must be a positive whole number, got 1.5"),
        ({"eval-seconds": -1}, "limits.eval-seconds must be a number of seconds"),
        ({"eval-seconds": True}, "limits.eval-seconds must be a number of seconds"),
        ({"max-stak": 1}, "unknown setting limits.max-stak"),
        ([], r"\[limits\] must be a table"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_limits(table)


def test_a_bad_limit_is_a_project_error(project_root: Path) -> None:
    (project_root / "rtc.toml").write_text("[limits]\nbuild-bytes = 'big'\n", encoding="utf-8")
    with pytest.raises(ProjectError, match=r"rtc\.toml: limits\.build-bytes must be a positive whole number"):
        load_project(project_root)
