"""The fast YAML emitter writes exactly what the reference (PyYAML's CSafeDumper) writes, and it round-trips."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench import workload
from compiler import yaml_emitter
from compiler.emit import canonical, to_yaml
from compiler.pipeline import build
from compiler.project import load_project
from tests.conftest import copy_catalog

# Strings YAML gives a meaning of their own, or that a block or a plain scalar cannot hold.
SPECIAL = [
    *("no", "No", "on", "ON", "off", "yes", "y", "n", "true", "False", "null", "Null", "~", ""),
    *("1e3", "1E3", "0x10", "0o17", "017", "12.1", ".5", "5.", "-1", "+1", "1_000", "1:20", "190:20:30"),
    *("2026-01-05", "2001-12-14t21:59:43.10-05:00", ".inf", "-.Inf", ".nan", "<<", "=", "0b101"),
    *("-", "- a", "-a", "? x", "?", ":", "a:", ":a", "a: b", "a :b", "a #b", "a#b", "#c", "&a", "*a", "!t"),
    *("|", ">", "'q'", '"d"', "%x", "@x", "`x", "---", "...", "--- a", "[a]", "{a}", "a,b", "a, b"),
    *(" lead", "trail ", "in  side", "\ttab", "a\tb", "tab\t", "é", "日本語", "emoji 😀", "\u00a0nbsp"),
    *("\u2028", "a\u2028b", "\x85", "a\x85b", "\u2029", "\r\n", "a\rb", "\x00", "\x07", "\x7f", "\ufeff", "\ufeffx"),
    *("line\n", "line\nnext", "trail  \nx", "x\n  indented", "\n", "\n\n", "a\n\n", "a\n\n\n", "\nlead", " \n"),
    *("a\n \nb", "a\n\tb", "#!/bin/sh\nset -eu\n", "k" * 127, "k" * 128, "k" * 129, "é" * 70, "x " * 70),
    "{{ index .Annotations `aml-model-repo` }}",
    '["generative"]',
]

# Multi-line printable ASCII, as start-up scripts are: the fast literal-block path.
scripts = st.tuples(
    st.lists(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=15), min_size=2, max_size=5),
    st.sampled_from(["", "\n", "\n\n"]),
).map(lambda parts: "\n".join(parts[0]) + parts[1])
strings = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=12),
    st.lists(st.sampled_from(SPECIAL), min_size=2, max_size=4).map("".join),
    scripts,
    st.from_regex(r"[a-z][a-z0-9./:_-]{0,20}( [a-z0-9]{1,4}){0,2}", fullmatch=True),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    strings,
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(strings, children, max_size=4),
    max_leaves=12,
)
documents = st.dictionaries(strings, values, min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(documents)
@example({"A": ["\n\u2028", None]})  # once a block PyYAML could not read back (found by this test)
@example({"no": None, "No": "\n\u2028"})
def test_same_text_as_the_reference(document: dict[str, Any]) -> None:
    assert yaml_emitter.dump(document) == yaml_emitter.reference_dump(document)
    # In rtc's canonical key order, without building the sorted copy.
    assert to_yaml(document) == yaml_emitter.reference_dump(canonical(document))


@settings(max_examples=150, deadline=None)
@given(documents)
@example({"A": ["\n\u2028", None]})
def test_emitted_yaml_loads_back_to_exactly_the_data(document: dict[str, Any]) -> None:
    loaded = yaml.safe_load(to_yaml(document))
    assert _same(loaded, document)


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0, True is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


def test_awkward_cases_the_fast_paths_hand_to_the_reference() -> None:
    cases: list[dict[str, Any]] = [
        {"k": "a\n\n"},  # keep-chomping literal at the end: the document gets "..."
        {"k": "a\n\n", "z": 1},
        {"k" * 200: {"nested": ["x", {"y": "z\n"}]}},  # a long key takes the "? key" form
        {"a": [{"k" * 200: 1}]},
        {"f": [0.0, -0.0, 1e20, 1e-7, float("inf"), float("-inf"), 0.1]},
        {"n": float("nan")},
    ]
    for case in cases:
        assert yaml_emitter.dump(case) == yaml_emitter.reference_dump(case), case


def _rendered_objects(root: Path) -> list[dict[str, Any]]:
    result = build(load_project(root), jobs=1, use_cache=False)
    assert result.ok, [d.format() for d in result.all_diagnostics]
    return [obj.body for render in result.renders if render.cluster for obj in render.cluster.objects]


def test_identical_to_the_reference_on_the_bundled_catalog(tmp_path: Path) -> None:
    bodies = _rendered_objects(copy_catalog(tmp_path / "repo"))
    assert len(bodies) > 11  # the 11 runtimes and the GitOps objects
    for body in bodies:
        assert to_yaml(body) == yaml_emitter.reference_dump(canonical(body))


def test_identical_to_the_reference_on_the_small_bench_workload(tmp_path: Path) -> None:
    written = workload.write(workload.SCALES["small"], tmp_path / "small")
    bodies = _rendered_objects(Path(written.root))
    assert len(bodies) >= workload.SCALES["small"].objects
    for body in bodies:
        assert to_yaml(body) == yaml_emitter.reference_dump(canonical(body))


def test_catalog_scalars_never_need_the_reference(tmp_path: Path, monkeypatch: Any) -> None:
    """The fast paths cover every scalar of the bundled catalog and the bench workload,
    so a build never loads PyYAML (a tenth of a worker's first target)."""
    catalog = _rendered_objects(copy_catalog(tmp_path / "repo"))
    bench = _rendered_objects(Path(workload.write(workload.SCALES["small"], tmp_path / "small").root))

    def refuse() -> None:
        raise AssertionError("the reference emitter (PyYAML) was needed")

    # Every way into PyYAML (a scalar, a long key, a whole document) goes through it.
    monkeypatch.setattr(yaml_emitter, "canonical_dumper", refuse)
    monkeypatch.setattr(yaml_emitter, "_tails", {})
    for body in catalog + bench:
        to_yaml(body)


def test_yaml_1_1_only_line_breaks_are_escaped_in_double_quotes() -> None:
    """U+0085, U+2028 and U+2029 break lines for PyYAML (YAML 1.1), not for go-yaml v3
    (YAML 1.2): outside double quotes the two would read different strings."""
    for text in ("\n\u2028", "a\u2028b", "x\x85", "line\nnext\u2029", "\u2029\n"):
        emitted = to_yaml({"k": text})
        assert emitted.startswith('k: "') and emitted.endswith('"\n'), emitted
        assert not any(ch in emitted for ch in "\x85\u2028\u2029")
        assert yaml.safe_load(emitted) == {"k": text}
