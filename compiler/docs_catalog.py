"""docs/catalog.md: runtime x hardware x cluster, with images, model formats and
what an InferenceService must provide for each runtime.

Everything comes from the sources: the runtimes and profiles from
catalog/index.libsonnet and hardware/index.libsonnet (evaluated for their
plain facts), which cluster runs what from the same render `rtc build` does.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from compiler.diagnostics import Diagnostic, SourceSpan, error
from compiler.engines import get_engine
from compiler.evaluate import evaluate_entry
from compiler.model import ArgoCDDelivery, ClusterRender, FluxDelivery
from compiler.pipeline import render
from compiler.project import Project
from compiler.targets import DELIVERY_FOLDERS

CATALOG_INDEX = "catalog/index.libsonnet"
HARDWARE_INDEX = "hardware/index.libsonnet"

# Only plain facts: evaluating a whole runtime object would also need a hardware profile.
_FACTS = """
local runtimes = import 'catalog/index.libsonnet';
local hardware = import 'hardware/index.libsonnet';
local field(o, k, default) = if std.objectHas(o, k) then o[k] else default;
{
  runtimes: {
    [name]: {
      displayName: runtimes[name].displayName,
      runtimeClass: runtimes[name].runtimeClass,
      images: runtimes[name].images,
      requirements: runtimes[name].requirements,
      formats: field(runtimes[name].spec, 'supportedModelFormats', []),
      protocols: field(runtimes[name].spec, 'protocolVersions', []),
    }
    for name in std.objectFields(runtimes)
  },
  hardware: {
    [name]: {
      family: hardware[name].family,
      accelerator: hardware[name].accelerator,
      resourceKey: hardware[name].resourceKey,
    }
    for name in std.objectFields(hardware)
  },
}
"""


DOCUMENT = "docs/catalog.md"


def generate(project: Project, engine_name: str | None) -> tuple[str | None, list[Diagnostic]]:
    engine = engine_name or project.engine
    for index in (CATALOG_INDEX, HARDWARE_INDEX):
        if not (project.root / index).is_file():
            return None, [
                error(
                    "E601",
                    f"{index} is missing; the catalog document lists what it imports",
                    span=SourceSpan(index),
                    hint="an object mapping each name to its definition, like the bundled one",
                )
            ]
    # One process: a few clusters render in well under a second, and forking
    # after an engine is loaded here (go-jsonnet starts threads) can deadlock.
    built = render(project, engine_name=engine, jobs=1, lint=False)
    if not built.ok:
        return None, built.all_diagnostics
    facts = evaluate_entry(project, CATALOG_INDEX, get_engine(engine), snippet=_FACTS)
    if not facts.ok:
        return None, facts.diagnostics
    clusters = [r.cluster for r in built.renders if r.cluster and r.cluster.cluster not in DELIVERY_FOLDERS]
    return _document(facts.data["runtimes"], facts.data["hardware"], clusters), []


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return f"`{text}`".replace("|", "\\|")


def _serving_image(body: dict[str, Any]) -> str:
    """The image of KServe's container (kserve-container), else of the first one."""
    containers = body.get("spec", {}).get("containers") or [{}]
    serving = next((c for c in containers if c.get("name") == "kserve-container"), containers[0])
    return str(serving.get("image", ""))


def _deployed(clusters: list[ClusterRender]) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    """(runtime, hardware) -> [(cluster, object name, serving image)]."""
    found: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for cluster in clusters:
        for obj in cluster.objects:
            found[(obj.runtime, obj.hardware)].append((cluster.cluster, obj.name, _serving_image(obj.body)))
    return found


def _matrix(runtimes: dict[str, Any], hardware: list[str], deployed: dict[tuple[str, str], Any]) -> list[str]:
    lines = ["| runtime | " + " | ".join(hardware) + " |", "| --- |" + " --- |" * len(hardware)]
    for name, runtime in runtimes.items():
        cells = []
        for profile in hardware:
            where = sorted({cluster for cluster, _, _ in deployed.get((name, profile), [])})
            if where:
                cells.append(", ".join(where))
            else:
                cells.append("supported" if profile in runtime["images"] else "—")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _requirements(requirements: dict[str, Any]) -> list[str]:
    if not requirements:
        return ["Required InferenceService settings: none."]
    lines = ["Required InferenceService settings:", ""]
    for key in sorted(requirements):
        value = requirements[key]
        if isinstance(value, dict):
            shown = ", ".join(f"{_code(k)}: {_code(v)}" for k, v in sorted(value.items()))
        elif isinstance(value, list):
            shown = ", ".join(_code(v) for v in value)
        else:
            shown = _code(value)
        lines.append(f"- {key}: {shown}")
    return lines


def _runtime_section(name: str, runtime: dict[str, Any], deployed: dict[tuple[str, str], Any]) -> list[str]:
    formats = ", ".join(f"{f['name']}" + (f" {f['version']}" if "version" in f else "") for f in runtime["formats"])
    protocols = ", ".join(runtime["protocols"]) or "KServe's default"
    lines = [
        f"### {name}",
        "",
        f"Defined in `catalog/{name}/main.libsonnet`; runtime class `{runtime['runtimeClass']}`. "
        f"Model formats: {formats or 'none'}. Protocols: {protocols}.",
        "",
        "| hardware | image | object | clusters |",
        "| --- | --- | --- | --- |",
    ]
    for profile, image in sorted(runtime["images"].items()):
        uses = sorted(deployed.get((name, profile), []))
        objects = sorted({obj for _, obj, _ in uses})
        where = [cluster if used == image else f"{cluster} ({_code(used)})" for cluster, _, used in uses]
        lines.append(f"| {profile} | {_code(image)} | {', '.join(objects) or '—'} | {', '.join(where) or 'none'} |")
    lines.append("")
    lines.extend(_requirements(runtime["requirements"]))
    lines.append("")
    return lines


def _delivery(cluster: ClusterRender) -> str:
    delivery = cluster.delivery
    if isinstance(delivery, ArgoCDDelivery):
        where = delivery.destination_name or delivery.destination_server
        return f"Argo CD {delivery.mode} → {where}"
    if isinstance(delivery, FluxDelivery):
        where = f"Secret {delivery.kube_config_secret}" if delivery.kube_config_secret else "its own cluster"
        return f"Flux → {where}"
    return "not set"


def _document(runtimes: dict[str, Any], hardware: dict[str, Any], clusters: list[ClusterRender]) -> str:
    deployed = _deployed(clusters)
    profiles = list(hardware)
    lines = [
        "<!-- Generated by `rtc docs` from catalog/, hardware/ and overlays/. Do not edit: "
        "change those files and run `rtc docs`. -->",
        "# Runtime catalog",
        "",
        f"{len(runtimes)} runtimes, {len(hardware)} hardware profiles, {len(clusters)} clusters. "
        "A cell names the clusters that run the runtime on the profile; `supported` means the "
        "runtime has an image for it but no cluster runs it.",
        "",
        "## Matrix",
        "",
        *_matrix(runtimes, profiles, deployed),
        "",
        "## Runtimes",
        "",
        "Images are the catalog's; a cluster that rewrites one (a registry mirror) shows its own in brackets.",
        "",
    ]
    for name, runtime in runtimes.items():
        lines.extend(_runtime_section(name, runtime, deployed))
    lines.extend(["## Hardware profiles", "", "| profile | family | accelerator | device resource |"])
    lines.append("| --- | --- | --- | --- |")
    for name, profile in hardware.items():
        accelerator = profile["accelerator"]
        shown = f"{accelerator['type']} {accelerator['versionKind']} {accelerator['version']}" if accelerator else "—"
        resource = _code(profile["resourceKey"]) if profile["resourceKey"] else "—"
        lines.append(f"| {name} | {profile['family']} | {shown} | {resource} |")
    lines.extend(
        ["", "## Clusters", "", "| cluster | platform | runtimes | delivered by |", "| --- | --- | --- | --- |"]
    )
    for cluster in clusters:
        lines.append(f"| {cluster.cluster} | {cluster.platform} | {len(cluster.objects)} | {_delivery(cluster)} |")
    return "\n".join(lines) + "\n"
