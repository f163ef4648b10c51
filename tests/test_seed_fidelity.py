"""out/demo/ reproduces the vendor's examples, except for the listed, reasoned differences."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.support.datadiff import differences

SEED = REPO / "tests" / "fixtures" / "seed"
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| `(?P<path>.+?)` \| (?P<reason>.+) \|$")


def listed_differences() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in (SEED / "DIFFERENCES.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            by_file = rows.setdefault(match["file"], {})
            assert match["path"] not in by_file, f"{match['file']}: {match['path']} is listed twice"
            by_file[match["path"]] = match["reason"].strip()
    return rows


SEED_RUNTIMES = sorted(SEED.glob("*.clusterservingruntime.yaml"))


def test_every_seed_runtime_is_covered() -> None:
    assert len(SEED_RUNTIMES) == 5
    assert set(listed_differences()) <= {p.name for p in SEED_RUNTIMES}


@pytest.mark.parametrize("seed_file", SEED_RUNTIMES, ids=lambda p: p.name)
def test_demo_matches_seed_except_listed(seed_file: Path) -> None:
    seed = yaml.safe_load(seed_file.read_text(encoding="utf-8"))
    name = seed["metadata"]["name"]
    rendered = REPO / "out" / "demo" / f"clusterservingruntime-{name}.yaml"
    assert rendered.is_file(), f"out/demo has no ClusterServingRuntime named {name}"
    actual = yaml.safe_load(rendered.read_text(encoding="utf-8"))

    found = set(differences(seed, actual))
    listed = listed_differences().get(seed_file.name, {})
    unlisted = sorted(found - set(listed))
    stale = sorted(set(listed) - found)
    assert not unlisted, f"differences not explained in DIFFERENCES.md: {unlisted}"
    assert not stale, f"DIFFERENCES.md lists paths that no longer differ: {stale}"
    assert all(len(reason) > 8 for reason in listed.values()), "every difference needs a reason"


def test_placeholders_keep_their_meaning() -> None:
    """Where only the placeholder quoting changed, the annotation read is the same."""
    quoted = re.compile(r'\{\{ index \.Annotations "([^"]+)" \}\}')
    raw = re.compile(r"\{\{ index \.Annotations `([^`]+)` \}\}")
    for seed_file in SEED_RUNTIMES:
        seed = yaml.safe_load(seed_file.read_text(encoding="utf-8"))
        actual = yaml.safe_load(
            (REPO / "out" / "demo" / f"clusterservingruntime-{seed['metadata']['name']}.yaml").read_text()
        )
        for path, (before, after) in differences(seed, actual).items():
            if isinstance(before, str) and isinstance(after, str) and quoted.search(before):
                if "command" in path:
                    continue
                assert quoted.sub(lambda m: f"{{{{ index .Annotations `{m[1]}` }}}}", before) == after, path
                assert raw.search(after)
