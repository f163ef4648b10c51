"""Property tests of the YAML writer: what rtc emits reads back as exactly the data.

PyYAML (YAML 1.1) checks every example; the real kustomize binary (YAML 1.2,
what Argo CD runs) checks that strings stay strings for it too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.emit import canonical, to_yaml

# Strings YAML readers like to turn into something else.
SPECIAL = [
    "no", "No", "NO", "yes", "on", "off", "y", "n", "Y", "N", "true", "False", "null", "Null", "~", "",
    "1e3", "1.5e3", "-1e-3", "0x10", "0o17", "0b101", "12.1", "1_000", "0777", "1:20", ".5", "+1", "-0",
    ".inf", "-.Inf", ".nan", "2001-01-01", "2001-12-14t21:59:43.10-05:00", "=", "<<", "- a", "a: b",
    "#x", "&x", "*x", "!x", "%x", "@x", "`x", "{a}", "[a]", "'", '"', " lead", "trail ", "\ttab",
    "line\nbreak", "trailing space \nnext", "tabs\t\n\tnext\t", "\u2028", "\x85", "\ufeff", "é ✓ 漢字",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.sampled_from(SPECIAL),
)
keys = st.one_of(st.text(), st.sampled_from(SPECIAL))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)
documents = st.dictionaries(keys, values, max_size=6)


@given(documents)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_emitted_yaml_loads_back_to_the_same_data(data: dict[str, Any]) -> None:
    assert yaml.safe_load(to_yaml(data)) == (data or {})


@given(documents, st.randoms(use_true_random=False))
@settings(max_examples=100)
def test_key_insertion_order_does_not_change_the_bytes(data: dict[str, Any], rnd: Any) -> None:
    def shuffled(value: Any) -> Any:
        if isinstance(value, dict):
            items = list(value.items())
            rnd.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(value, list):
            return [shuffled(v) for v in value]
        return value

    assert to_yaml(shuffled(data)) == to_yaml(data)


def test_canonical_order_puts_identity_first() -> None:
    obj = {
        "spec": {"b": 1, "a": 2},
        "zeta": 1,
        "metadata": {"labels": {}, "name": "x"},
        "kind": "K",
        "apiVersion": "v1",
    }
    assert list(canonical(obj)) == ["apiVersion", "kind", "metadata", "spec", "zeta"]
    assert list(canonical(obj)["metadata"]) == ["name", "labels"]
    assert list(canonical(obj)["spec"]) == ["a", "b"]


def _kustomize() -> str:
    found = shutil.which("kustomize") or str(Path(__file__).resolve().parent.parent / ".tools/bin/kustomize")
    if not os.access(found, os.X_OK):
        pytest.fail("kustomize not found: run `make tools` (the Makefile's test target does)")
    return found


KUSTOMIZE = _kustomize()


class _KustomizeOutputLoader(yaml.SafeLoader):
    """Reads kustomize's output; it writes "=" and "<<" plain (strings in YAML 1.2),
    which YAML 1.1's value and merge tags would otherwise refuse."""


def _plain_string(loader: _KustomizeOutputLoader, node: yaml.Node) -> str:
    return str(node.value)


for _tag in ("value", "merge"):
    _KustomizeOutputLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _plain_string)


def _through_kustomize(tmp: Path, data: dict[str, str]) -> Any:
    """What Argo CD sees: the ConfigMap's data after `kustomize build` (YAML 1.2)."""
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": data}
    (tmp / "cm.yaml").write_text(to_yaml(config_map), encoding="utf-8")
    (tmp / "kustomization.yaml").write_text(to_yaml({"resources": ["cm.yaml"]}), encoding="utf-8")
    proc = subprocess.run([KUSTOMIZE, "build", str(tmp)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return yaml.load(proc.stdout, Loader=_KustomizeOutputLoader)["data"]


# kustomize itself turns U+0085 (NEL) into a space, however it is written.
KUSTOMIZE_SAFE = [s for s in SPECIAL if "\x85" not in s]


def test_special_strings_stay_strings_for_kustomize(tmp_path: Path) -> None:
    data = {f"k{i}": s for i, s in enumerate(KUSTOMIZE_SAFE)}
    assert _through_kustomize(tmp_path, data) == data


printable_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12)


@given(st.lists(st.one_of(printable_text, st.sampled_from(KUSTOMIZE_SAFE)), min_size=1, max_size=10))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_strings_stay_strings_for_kustomize(tmp_path: Path, strings: list[str]) -> None:
    data = {f"k{i}": s for i, s in enumerate(strings)}
    assert _through_kustomize(tmp_path, data) == data
