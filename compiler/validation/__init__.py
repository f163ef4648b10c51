"""Offline validation of Kubernetes objects: vendored CRD and Kubernetes schemas,
object metadata as the API server checks it, list-map keys and CEL rules.

Entry points: `default_validator()` for the bundled schemas, `Validator` for a
custom `SchemaStore` (with --schema-location CRDs), `validate_cluster` for the
build pipeline. docs/validation.md describes the checks.
"""

from __future__ import annotations

from functools import cache

from compiler.validation.store import SchemaStore, default_cache_dir
from compiler.validation.validator import Validator, Verdict


@cache
def default_validator() -> Validator:
    """The bundled schemas, loaded once per process."""
    return Validator(SchemaStore.load(cache_dir=default_cache_dir()))


__all__ = ["SchemaStore", "Validator", "Verdict", "default_validator"]
