"""The pieces of validation: vendored schemas, conversion, metadata, list maps, CEL, cache."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from compiler.normalize import name_problem
from compiler.validation import SchemaStore, Validator, default_validator
from compiler.validation import store as store_module
from compiler.validation.cel import Rule, evaluate
from compiler.validation.convert import convert_node, schemas_dir
from compiler.validation.metadata import ANNOTATIONS_LIMIT, label_value_problem, qualified_name_problem
from tests.conftest import REPO

SCHEMAS = REPO / "compiler" / "schemas"


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_vendored_crds_are_the_upstream_blobs_named_in_sources() -> None:
    sources = (SCHEMAS / "SOURCES.md").read_text(encoding="utf-8")
    blobs = dict(re.findall(r"### `([^`]+)`.*?git blob `([0-9a-f]{40})`", sources, flags=re.S))
    crds = sorted(p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.glob("*/*.yaml"))
    assert sorted(blobs) == crds
    for name, blob in blobs.items():
        assert git_blob_id((SCHEMAS / name).read_bytes()) == blob, name


def test_index_says_which_file_serves_which_kind(tmp_path: Path) -> None:
    store = SchemaStore.load(cache_dir=tmp_path)
    index = json.loads((SCHEMAS / "index.json").read_text(encoding="utf-8"))
    assert {e["file"] for e in index} == {p.relative_to(SCHEMAS).as_posix() for p in SCHEMAS.glob("*/*.yaml")}
    for entry in index:
        kind = store.get(entry["apiVersion"], entry["kind"])
        assert kind is not None and kind.namespaced == entry["namespaced"]
        assert kind.schema["properties"]["kind"] == {"type": "string"}  # loads: the file really defines it


def test_converted_crds_are_cached_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = SchemaStore.load(cache_dir=tmp_path).get("serving.kserve.io/v1alpha1", "ClusterServingRuntime")
    assert first is not None
    schema, sites = first.schema, first.sites
    assert len(list((tmp_path / "schemas").glob("*/index.json"))) == 1  # only the file that was needed

    def no_conversion(*args: Any) -> Any:
        raise AssertionError("a cached CRD must not be converted again")

    monkeypatch.setattr(store_module, "convert_crd", no_conversion)
    again = SchemaStore.load(cache_dir=tmp_path).get("serving.kserve.io/v1alpha1", "ClusterServingRuntime")
    assert again is not None and again.schema == schema and again.sites == sites


def test_conversion_makes_kubernetes_rules_explicit() -> None:
    node = {
        "type": "object",
        "properties": {
            "port": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "size": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
            "note": {"type": "string", "nullable": True, "enum": ["a"]},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "empty": {"type": "object"},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    converted = convert_node(node)
    props = converted["properties"]
    assert converted["additionalProperties"] is False
    assert "type" not in props["port"]
    assert props["size"] == {"type": "integer", "exclusiveMinimum": 0}
    assert props["note"] == {"type": ["string", "null"], "enum": ["a", None]}
    assert "additionalProperties" not in props["free"]
    assert props["empty"]["additionalProperties"] is False
    assert props["map"]["additionalProperties"] == {"type": "string"}


def test_every_vendored_builtin_schema_compiles_and_accepts_a_minimal_object() -> None:
    validator = default_validator()
    index = json.loads(schemas_dir().joinpath("kubernetes", "v1.33.0", "index.json").read_text(encoding="utf-8"))
    assert len(index) == 25
    for entry in index:
        obj: dict[str, Any] = {"apiVersion": entry["apiVersion"], "kind": entry["kind"], "metadata": {"name": "x"}}
        if entry["namespaced"]:
            obj["metadata"]["namespace"] = "team"
        if entry["kind"] == "RuntimeClass":
            obj["handler"] = "nvidia"
        verdict = validator.validate(obj)
        required = [v for v in verdict.violations if "required field" in v.message]
        assert verdict.status == "valid" or len(required) == len(verdict.violations), (entry, verdict.violations)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("app.kubernetes.io/name", None),
        ("cpaas.io/cuda-version", None),
        ("modelClass", None),
        ("a/b/c", "has more than one '/'"),
        ("/name", "has an empty prefix before '/'"),
        ("example.com/", "has an empty name part"),
        ("x" * 64, "has a name part of 64 characters; the limit is 63"),
        ("-leading", "has a name part '-leading'"),
        ("Example.COM/x", "has a prefix 'Example.COM'"),
    ],
)
def test_qualified_names(key: str, problem: str | None) -> None:
    found = qualified_name_problem(key)
    assert found == problem if problem is None else found is not None and found.startswith(problem)


def test_label_values_and_names() -> None:
    assert label_value_problem("") is None
    assert label_value_problem("12.1") is None
    assert label_value_problem("a" * 63) is None
    assert label_value_problem("a" * 64) == "is 64 characters long; the limit is 63"
    assert label_value_problem("v1-") is not None
    # `$` would accept a trailing newline; names are matched whole.
    assert name_problem("runtime\n") is not None
    assert name_problem("runtime") is None


def test_annotation_total_is_limited_to_256_kib() -> None:
    validator = default_validator()

    def namespace(value_size: int) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "n", "annotations": {"k": "x" * value_size}},
        }

    assert validator.validate(namespace(ANNOTATIONS_LIMIT - 1)).status == "valid"
    over = validator.validate(namespace(ANNOTATIONS_LIMIT))
    assert [v.message for v in over.violations] == [
        f"annotations total {ANNOTATIONS_LIMIT + 1} bytes; the API server allows {ANNOTATIONS_LIMIT} (256 KiB)"
    ]


def test_cel_rules() -> None:
    rule = Rule("!has(self.serviceAccountName) || (has(self.provider) && self.provider in ['azure', 'aws'])", "m")
    assert evaluate(rule, {"serviceAccountName": "a", "provider": "aws"}).passed is True
    failed = evaluate(rule, {"serviceAccountName": "a"})
    assert failed.passed is False and failed.message == "m"
    assert evaluate(Rule("self.all(x, x > 0)"), [1, 2]).passed is True
    assert evaluate(
        Rule("self.size() <= 1", message_expression="'too many: ' + string(self.size())"), [1, 2]
    ).message == ("too many: 2")
    assert evaluate(Rule("self == oldSelf"), 1).passed is None
    unsupported = evaluate(Rule("quantity(self).isGreaterThan(quantity('1'))"), "2")
    assert unsupported.passed is None and "extension" in unsupported.reason
    assert evaluate(Rule("self.missing == 1"), {}).passed is False


def test_list_map_key_defaults_make_ports_collide() -> None:
    validator = Validator(SchemaStore.load(cache_dir=None))
    obj = {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ServingRuntime",
        "metadata": {"name": "r"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "ports": [
                        {"containerPort": 8080, "protocol": "TCP"},
                        {"containerPort": 8080, "protocol": "UDP"},
                        {"containerPort": 8080},
                    ],
                }
            ]
        },
    }
    verdict = validator.validate(obj)
    assert [(v.code, v.location) for v in verdict.violations] == [("E303", "spec.containers[0].ports[2]")]


def test_the_catalog_kinds_compiled_before_forking_have_schemas() -> None:
    from compiler.pipeline import CATALOG_KINDS

    validator = default_validator()
    assert [validator.prepare(api_version, kind) for api_version, kind in CATALOG_KINDS] == [True, True]
    assert not validator.prepare("example.com/v1", "Nothing")
