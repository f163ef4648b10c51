"""CRD openAPIV3Schema -> standalone JSON Schema (draft 2020-12), as strict as the API server.

A CRD's structural schema is OpenAPI v3.0 with Kubernetes extensions. The
conversion keeps every constraint a JSON Schema validator can check and makes
the implicit Kubernetes rules explicit:

- unknown fields are rejected (``additionalProperties: false``) unless the node
  says ``x-kubernetes-preserve-unknown-fields`` (the API server prunes or, with
  strict field validation, rejects them);
- ``nullable: true`` becomes a ``null`` alternative; elsewhere ``null`` is an error,
  as it is for kubeconform;
- ``x-kubernetes-int-or-string`` becomes ``anyOf: [integer, string]``;
- OpenAPI's boolean ``exclusiveMinimum``/``exclusiveMaximum`` become numbers;
- ``metadata`` is Kubernetes' own ObjectMeta schema, not the CRD's bare ``object``.

The ``x-kubernetes-list-type``/``-list-map-keys``/``-validations`` keywords are kept:
JSON Schema validators ignore them, and compiler.validation.sites reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# Bump when the conversion changes: it is part of the cache key.
CONVERTER_VERSION = "1"
KUBERNETES_VERSION = "v1.33.0"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# resource.Quantity's grammar, as the CRDs (and rtc's Kubernetes schemas) spell it.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
QUANTITY_EXAMPLE = "a Kubernetes quantity such as 500m, 2, 1.5 or 8Gi"

# Keywords copied as they are (OpenAPI v3.0 and JSON Schema agree on them).
_PLAIN = (
    "type",
    "format",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "minProperties",
    "maxProperties",
    "required",
    "default",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-embedded-resource",
)


@dataclass(frozen=True)
class CrdVersion:
    """One served version of a CRD, converted."""

    api_version: str
    kind: str
    namespaced: bool
    schema: dict[str, Any]


class CrdError(ValueError):
    """A document is not a usable CustomResourceDefinition."""


def schemas_dir() -> Traversable:
    """compiler/schemas/, the vendored CRDs and Kubernetes schemas (package data)."""
    return resources.files("compiler").joinpath("schemas")


def builtin_dir() -> Traversable:
    return schemas_dir().joinpath("kubernetes").joinpath(KUBERNETES_VERSION)


@cache
def object_meta_defs() -> dict[str, Any]:
    """ObjectMeta and what it references, from the vendored Kubernetes schemas."""
    configmap = json.loads(builtin_dir().joinpath("configmap-v1.json").read_text(encoding="utf-8"))
    defs: dict[str, Any] = configmap["$defs"]
    return {name: schema for name, schema in defs.items() if name.startswith("io.k8s.apimachinery.pkg.apis.meta.v1.")}


def convert_node(node: Any) -> Any:
    """One OpenAPI v3.0 schema node -> JSON Schema 2020-12."""
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {k: node[k] for k in _PLAIN if k in node}
    if "properties" in node:
        result["properties"] = {name: convert_node(sub) for name, sub in node["properties"].items()}
    if "items" in node:
        items = node["items"]
        result["items"] = convert_node(items) if isinstance(items, dict) else {}
    additional = node.get("additionalProperties")
    if isinstance(additional, dict):
        result["additionalProperties"] = convert_node(additional)
    elif isinstance(additional, bool):
        result["additionalProperties"] = additional
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            result[key] = [convert_node(sub) for sub in node[key]]
    if "not" in node:
        result["not"] = convert_node(node["not"])
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if node.get(exclusive) is True and bound in node:
            result[exclusive] = result.pop(bound)
    if node.get("x-kubernetes-int-or-string") is True:
        result.pop("type", None)
        if "anyOf" not in result:
            result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("x-kubernetes-embedded-resource") is True:
        _embed(result)
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    is_object = result.get("type") == "object"
    if is_object and not preserve and "additionalProperties" not in result:
        # With no properties either, the API server keeps nothing: only {} is valid.
        result["additionalProperties"] = False
    if node.get("nullable") is True:
        _allow_null(result)
    return result


def _embed(result: dict[str, Any]) -> None:
    """An embedded resource carries apiVersion, kind and metadata of its own."""
    properties = result.setdefault("properties", {})
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    properties["metadata"] = {"$ref": f"#/$defs/{OBJECT_META}"}


def _allow_null(result: dict[str, Any]) -> None:
    kind = result.get("type")
    if isinstance(kind, str):
        result["type"] = [kind, "null"]
    elif "type" not in result and ("anyOf" in result or "oneOf" in result):
        key = "anyOf" if "anyOf" in result else "oneOf"
        result[key] = [*result[key], {"type": "null"}]
    if "enum" in result and None not in result["enum"]:
        result["enum"] = [*result["enum"], None]


def convert_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """A version's openAPIV3Schema -> a standalone JSON Schema for the whole object."""
    schema = convert_node(openapi)
    properties = schema.setdefault("properties", {})
    properties["metadata"] = {"$ref": f"#/$defs/{OBJECT_META}"}
    schema["type"] = "object"
    if schema.get("x-kubernetes-preserve-unknown-fields") is not True:
        schema["additionalProperties"] = False
    uses_meta = _mentions(schema, OBJECT_META)
    return {"$schema": DRAFT, **schema, **({"$defs": object_meta_defs()} if uses_meta else {})}


def _mentions(schema: Any, name: str) -> bool:
    return f"#/$defs/{name}" in json.dumps(schema)


def convert_crd(document: Any) -> list[CrdVersion]:
    """Every served version of a CustomResourceDefinition document."""
    if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
        raise CrdError("not a CustomResourceDefinition")
    api_version = document.get("apiVersion")
    if api_version != "apiextensions.k8s.io/v1":
        raise CrdError(f"apiVersion {api_version!r} is not supported; only apiextensions.k8s.io/v1 CRDs carry schemas")
    spec = document.get("spec")
    if not isinstance(spec, dict):
        raise CrdError("CustomResourceDefinition has no spec")
    group, names, scope = spec.get("group"), spec.get("names"), spec.get("scope")
    if not isinstance(group, str) or not isinstance(names, dict) or not isinstance(names.get("kind"), str):
        raise CrdError("CustomResourceDefinition has no spec.group or spec.names.kind")
    if scope not in ("Namespaced", "Cluster"):
        raise CrdError(f"spec.scope must be Namespaced or Cluster, got {scope!r}")
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        raise CrdError("CustomResourceDefinition has no spec.versions")
    converted = []
    for version in versions:
        if not isinstance(version, dict) or not isinstance(version.get("name"), str):
            raise CrdError("a spec.versions entry has no name")
        if version.get("served") is False:
            continue
        openapi = (version.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(openapi, dict):
            raise CrdError(f"version {version['name']} has no schema.openAPIV3Schema")
        converted.append(
            CrdVersion(
                api_version=f"{group}/{version['name']}",
                kind=names["kind"],
                namespaced=scope == "Namespaced",
                schema=convert_schema(openapi),
            )
        )
    return converted
