"""`rtc schemas export`: rtc's JSON Schemas in the layout kubeconform looks up.

kubeconform finds a schema by the template `{{ .ResourceKind }}{{ .KindSuffix }}.json`:
the kind in lower case, then `-<first label of the group>-<version>` (core kinds:
`-<version>`), e.g. clusterservingruntime-serving-v1alpha1.json, configmap-v1.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from compiler.validation.store import SchemaStore, export_name

KUBECONFORM_TEMPLATE = "{{ .ResourceKind }}{{ .KindSuffix }}.json"


@dataclass
class Export:
    written: list[str] = field(default_factory=list)
    # Kinds whose file name another kind already took (kubeconform keeps only the group's first label).
    clashes: list[str] = field(default_factory=list)


def schema_bytes(schema: dict[str, object]) -> bytes:
    return (json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def export_schemas(store: SchemaStore, directory: Path) -> Export:
    result = Export()
    taken: dict[str, str] = {}
    directory.mkdir(parents=True, exist_ok=True)
    for kind in store.all():
        name = export_name(kind.api_version, kind.kind)
        label = f"{kind.kind} {kind.api_version}"
        if name in taken:
            result.clashes.append(f"{label} (file {name} holds {taken[name]})")
            continue
        taken[name] = label
        (directory / name).write_bytes(schema_bytes(kind.schema))
        result.written.append(name)
    return result
