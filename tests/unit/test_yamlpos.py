from __future__ import annotations

import pytest

from compiler.yamlpos import YamlError, load_documents, render_path

TEXT = """\
# header
a:
  b:
  - name: x
    script: |
      echo one
      echo two
    folded: >
      first
      second

      third
    quoted: 'say {{ .Name }}'
---
c: 1
"""


def test_paths_point_at_keys_and_items() -> None:
    first, second = load_documents(TEXT)
    assert first.positions.locate(("a",)) == (2, 1)
    assert first.positions.locate(("a", "b", 0)) == (4, 5)
    assert first.positions.locate(("a", "b", 0, "name")) == (4, 5)
    assert second.positions.locate(("c",)) == (15, 1)
    assert second.line == 15


def test_missing_path_falls_back_to_the_nearest_ancestor() -> None:
    (first, _) = load_documents(TEXT)
    assert first.positions.locate(("a", "b", 0, "nope", "deeper")) == (4, 5)


def test_offsets_inside_scalars() -> None:
    (first, _) = load_documents(TEXT)
    base = ("a", "b", 0)
    assert first.positions.locate((*base, "script"), (1, 6)) == (7, 12)
    # folded: "first second\nthird": column 7 of line 0 is in the second source line
    assert first.positions.locate((*base, "folded"), (0, 7)) == (10, 7)
    assert first.positions.locate((*base, "folded"), (1, 1)) == (12, 7)
    assert first.positions.locate((*base, "quoted"), (0, 5)) == (13, 18)


def test_bad_yaml_has_a_position() -> None:
    with pytest.raises(YamlError) as caught:
        load_documents("a: [1, 2\nb: c\n")
    assert caught.value.line == 2


def test_render_path() -> None:
    assert render_path(("spec", "containers", 0, "image")) == "spec.containers[0].image"
    assert (
        render_path(("metadata", "annotations", "prometheus.io/port")) == "metadata.annotations['prometheus.io/port']"
    )
