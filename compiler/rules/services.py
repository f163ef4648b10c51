"""InferenceServices against the runtimes their cluster gets, and the
requirements runtimes declare for them (`requirements:` in the catalog)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from compiler.rules.k8s import as_dict, as_list, kserve_container
from compiler.rules.registry import RUNTIME_KINDS, SERVICE_KINDS, Finding, LintContext, Subject, rule
from compiler.selection import Request, default_protocol, runtime_from, supporting_runtimes
from compiler.yamlpos import JsonPath

MODEL: JsonPath = ("spec", "predictor", "model")
# Legacy predictor keys KServe converts to predictor.model with this format name.
_LEGACY_PREDICTORS = (
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "pmml",
    "lightgbm",
    "paddle",
    "huggingface",
)
REQUIREMENT_KEYS = ("env", "annotations", "podSecurityContext")
# Device-plugin domains: a resource under one of these is an accelerator.
_ACCELERATOR_DOMAINS = (
    "nvidia.com",
    "amd.com",
    "huawei.com",
    "habana.ai",
    "intel.com",
    "gpu.intel.com",
    "hygon.com",
    "cambricon.com",
    "metax-tech.com",
    "enflame.com",
    "mthreads.com",
    "iluvatar.ai",
    "kunlunxin.com",
    "aws.amazon.com",
    "ibm.com",
)
# Resources that go with a device key (HAMi's vGPU shares, MIG slices of nvidia.com/gpu).
_COMPANIONS = {
    "nvidia.com/gpu": (
        "nvidia.com/gpumem",
        "nvidia.com/gpumem-percentage",
        "nvidia.com/gpucores",
        "nvidia.com/priority",
    ),
    "amd.com/gpu": ("amd.com/gpucores", "amd.com/gpumem"),
}


@dataclass(frozen=True)
class Wanted:
    """What an InferenceService's predictor asks for."""

    path: JsonPath
    format_name: str
    version: str | None
    runtime: str | None
    protocol: str | None
    multi_node: bool


def wanted(subject: Subject) -> Wanted | None:
    predictor = as_dict(subject.spec.get("predictor"))
    model = predictor.get("model")
    if isinstance(model, dict):
        fmt = as_dict(model.get("modelFormat"))
        version = fmt.get("version")
        runtime = model.get("runtime")
        protocol = model.get("protocolVersion")
        if not fmt.get("name") and runtime is None:
            return None  # nothing to select by; the schema requires modelFormat
        return Wanted(
            path=MODEL,
            format_name=str(fmt.get("name", "")),
            version=str(version) if version is not None else None,
            runtime=str(runtime) if runtime is not None else None,
            protocol=str(protocol) if protocol is not None else None,
            multi_node=isinstance(predictor.get("workerSpec"), dict),
        )
    for key in _LEGACY_PREDICTORS:
        legacy = predictor.get(key)
        if isinstance(legacy, dict):
            runtime, protocol = legacy.get("runtime"), legacy.get("protocolVersion")
            return Wanted(
                path=("spec", "predictor", key),
                format_name=key,
                version=None,
                runtime=str(runtime) if runtime is not None else None,
                protocol=str(protocol) if protocol is not None else None,
                multi_node=False,
            )
    return None


@dataclass(frozen=True)
class Resolution:
    runtime: Subject | None
    named: bool
    problem: Finding | None = None


def _where(context: LintContext) -> str:
    return f"cluster {context.cluster}" if context.cluster else "the linted files"


def _closest(name: str, candidates: list[str]) -> str | None:
    """The candidate most like `name`: by similarity, with a bonus for a shared
    prefix, so `aml-vllm-ascend-0.18.0rc1` finds `aml-vllm-ascend-cann-8.5.1`."""

    def score(candidate: str) -> float:
        prefix = len(_common_prefix(name, candidate))
        return difflib.SequenceMatcher(None, name, candidate).ratio() + prefix / max(len(name), 1)

    ranked = sorted(candidates, key=lambda c: (-score(c), c))
    if ranked and score(ranked[0]) >= 0.6:
        return ranked[0]
    return None


def _common_prefix(a: str, b: str) -> str:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return a[:size]


def resolve(subject: Subject, context: LintContext) -> Resolution:
    """The runtime KServe would use for this InferenceService, as
    reconcileModel finds it: by name (a ServingRuntime in the service's
    namespace shadows a ClusterServingRuntime), else by auto-selection."""
    want = wanted(subject)
    if want is None:
        return Resolution(None, named=False)
    namespace = subject.namespace
    runtimes = [r for r in context.runtimes if r.kind in RUNTIME_KINDS]
    if want.runtime is not None:
        shadowing = [
            r
            for r in runtimes
            if r.kind == "ServingRuntime" and r.name == want.runtime and (namespace is None or r.namespace == namespace)
        ]
        cluster = [r for r in runtimes if r.kind == "ClusterServingRuntime" and r.name == want.runtime]
        matches = shadowing or cluster
        if matches:
            return Resolution(matches[0], named=True)
        names = sorted({r.name for r in runtimes})
        close = _closest(want.runtime, names)
        hint = f"did you mean {close!r}?" if close else (f"runtimes: {', '.join(names)}" if names else None)
        return Resolution(
            None,
            named=True,
            problem=Finding(
                (*want.path, "runtime"),
                f"runtime {want.runtime!r} does not exist in {_where(context)}",
                hint=hint,
            ),
        )
    protocol = want.protocol or default_protocol(want.format_name)
    request = Request(want.format_name, want.version, protocol, namespace, want.multi_node)
    by_name = {runtime_from(r.body).name: r for r in runtimes}
    ordered = supporting_runtimes([runtime_from(r.body) for r in runtimes], request)
    if ordered:
        return Resolution(by_name[ordered[0].name], named=False)
    asked = want.format_name + (f" version {want.version}" if want.version is not None else "")
    by_format = sorted(
        runtime_from(r.body).name
        for r in runtimes
        if runtime_from(r.body).supports(want.format_name, want.version, named=True)
    )
    hint = (
        f"name one of the runtimes that support it in {'.'.join(str(p) for p in want.path)}.runtime: "
        + ", ".join(by_format)
        if by_format
        else None
    )
    return Resolution(
        None,
        named=False,
        problem=Finding(
            (*want.path, "modelFormat") if want.path == MODEL else want.path,
            f"no runtime in {_where(context)} auto-selects model format {asked} with protocol {protocol}",
            hint=hint,
        ),
    )


@rule(id="RTC801", summary="An InferenceService's runtime exists in its cluster", kinds=SERVICE_KINDS)
def runtime_exists(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """The runtime an InferenceService names exists in its cluster's output,
    or, when it names none, one runtime auto-selects its model format.

    KServe looks a named runtime up as a ServingRuntime in the service's
    namespace first, then as a ClusterServingRuntime, and fails with "No
    ServingRuntimes or ClusterServingRuntimes with the name" (KServe issue
    #2109). rtc suggests the closest name. The vendor's own example names
    `aml-vllm-ascend-0.18.0rc1`, a runtime that does not exist (the runtime
    is `aml-vllm-ascend-cann-8.5.1`).

    Without a name, rtc replays KServe's auto-selection (see RTC504) and
    reports when nothing matches ("No runtime found"), listing the runtimes
    that support the format by name. With `rtc lint PATH --target NAME` the
    cluster is NAME's rendered output plus the runtimes among the files;
    InferenceServices under `overlays/<cluster>/services/` are checked
    against their cluster on every build.
    """
    resolution = resolve(subject, context)
    if resolution.problem is not None:
        yield resolution.problem


@rule(id="RTC802", summary="The named runtime serves the InferenceService's format and protocol", kinds=SERVICE_KINDS)
def runtime_serves(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """A runtime named by an InferenceService is enabled and supports its model
    format and protocol, the way KServe checks a named runtime: every
    `supportedModelFormats` entry counts (autoSelect or not), names and
    versions match exactly, and a set `protocolVersion` must be in the
    runtime's `protocolVersions` (when it lists any).
    """
    want = wanted(subject)
    resolution = resolve(subject, context)
    if want is None or resolution.runtime is None or not resolution.named:
        return
    runtime = runtime_from(resolution.runtime.body)
    if runtime.disabled:
        yield Finding((*want.path, "runtime"), f"runtime {runtime.name} is disabled")
    if want.protocol is not None and not runtime.accepts_protocol(want.protocol):
        yield Finding(
            (*want.path, "protocolVersion"),
            f"runtime {runtime.name} does not accept protocol {want.protocol} "
            f"(it lists {', '.join(runtime.protocols)})",
        )
    if not runtime.supports(want.format_name, want.version, named=True):
        asked = want.format_name + (f" version {want.version}" if want.version is not None else "")
        offered = ", ".join(
            entry.name + (f" version {entry.version}" if entry.version is not None else "") for entry in runtime.formats
        )
        yield Finding(
            (*want.path, "modelFormat") if want.path == MODEL else want.path,
            f"runtime {runtime.name} does not support model format {asked} (it supports {offered or 'nothing'})",
        )


def _requirement_source(runtime: Subject) -> str:
    return f" ({runtime.sources[0]})" if runtime.sources else ""


def _merged_env(runtime: Subject, subject: Subject, want: Wanted) -> dict[str, Any]:
    """The serving container's env after KServe merges the predictor into it (by name)."""
    merged: dict[str, Any] = {}
    container = kserve_container(runtime.body)
    model = as_dict(as_dict(subject.spec.get("predictor")).get("model"))
    layers = [as_list(container.body.get("env")) if container else []]
    layers.append(as_list(model.get("env")) if want.path == MODEL else [])
    for layer in layers:
        for item in layer:
            item = as_dict(item)
            if isinstance(item.get("name"), str):
                merged[item["name"]] = item
    return merged


def _has_value(item: dict[str, Any]) -> bool:
    if isinstance(item.get("valueFrom"), dict):
        return True
    value = item.get("value")
    return value is not None and str(value).strip() != ""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@rule(id="RTC803", summary="An InferenceService meets its runtime's declared requirements", kinds=SERVICE_KINDS)
def requirements_met(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """What a runtime needs from each InferenceService, declared next to the
    runtime in the catalog (`requirements:` in its main.libsonnet), holds for
    an InferenceService that uses it:

    - `env: ['MODEL_FAMILY']`: the variable has a non-empty value in the
      serving container once KServe merges the predictor's env into the
      runtime's (Xinference cannot guess the model family);
    - `annotations: { 'storage.kserve.io/readonly': 'false' }`: the
      InferenceService carries the annotation with that value (MindIE changes
      the permissions of the model's files, so the volume must be writable);
    - `podSecurityContext: { fsGroup: 1000, supplementalGroups: [1000] }`:
      `spec.predictor.securityContext` has those values (lists must contain
      them); vLLM-ascend's non-root mode needs the group to open the Ascend
      devices.

    Requirements travel with the runtime into the rtc output, so no runtime
    knowledge is hard-coded in rtc. Runtimes read from plain YAML files have
    no declared requirements.
    """
    want = wanted(subject)
    runtime = resolve(subject, context).runtime
    if want is None or runtime is None or not runtime.requirements:
        return
    source = _requirement_source(runtime)
    requirements = runtime.requirements
    env = _merged_env(runtime, subject, want)
    for name in as_list(requirements.get("env")):
        if not isinstance(name, str):
            continue
        item = env.get(name)
        if item is None or not _has_value(item):
            yield Finding(
                (*want.path, "env") if want.path == MODEL else want.path,
                f"runtime {runtime.name} needs env {name} with a value{source}",
            )
    annotations = as_dict(subject.metadata.get("annotations"))
    for key, value in sorted(as_dict(requirements.get("annotations")).items()):
        if key not in annotations:
            yield Finding(
                ("metadata", "annotations") if annotations else ("metadata",),
                f"runtime {runtime.name} needs the annotation {key}: {_text(value)!r}{source}",
            )
        elif _text(annotations[key]) != _text(value):
            yield Finding(
                ("metadata", "annotations", key),
                f"runtime {runtime.name} needs {key}: {_text(value)!r}, not {_text(annotations[key])!r}{source}",
            )
    predictor = as_dict(subject.spec.get("predictor"))
    security = as_dict(predictor.get("securityContext"))
    base: JsonPath = ("spec", "predictor", "securityContext")
    for key, value in sorted(as_dict(requirements.get("podSecurityContext")).items()):
        have = security.get(key)
        where = (*base, key) if key in security else (base if security else ("spec", "predictor"))
        if isinstance(value, list):
            missing = [v for v in value if v not in as_list(have)]
            if missing:
                yield Finding(
                    where,
                    f"runtime {runtime.name} needs spec.predictor.securityContext.{key} to include "
                    f"{', '.join(_text(v) for v in missing)}{source}",
                )
        elif have != value:
            now = "unset" if have is None else repr(have)
            yield Finding(
                where,
                f"runtime {runtime.name} needs spec.predictor.securityContext.{key}: {_text(value)} "
                f"({now} here){source}",
            )


def _is_accelerator(resource: str) -> bool:
    domain = resource.split("/", 1)[0] if "/" in resource else ""
    return domain in _ACCELERATOR_DOMAINS


def _belongs_to(resource: str, key: str) -> bool:
    if resource == key or resource.startswith(key + "-"):
        return True
    if key == "nvidia.com/gpu" and resource.startswith("nvidia.com/mig-"):
        return True
    return resource in _COMPANIONS.get(key, ())


@rule(id="RTC804", summary="An InferenceService requests the device its runtime is built for", kinds=SERVICE_KINDS)
def device_resources(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """The accelerator an InferenceService requests is the one its runtime's
    hardware profile provides (`resourceKey` in hardware/<profile>.libsonnet,
    carried into the rtc output).

    A vLLM-ascend runtime built for `huawei.com/Ascend910B4` on a service
    requesting `nvidia.com/gpu` schedules onto a GPU node and crashes there; a
    service requesting no device for an accelerator runtime starts without
    one; a CPU runtime given a GPU wastes it. Companion resources are
    accepted: `<key>-memory`/`<key>-core` (HAMi), `nvidia.com/gpumem`,
    `nvidia.com/gpucores`, MIG slices `nvidia.com/mig-*`. Checked only for
    runtimes from the catalog, whose hardware rtc knows.
    """
    want = wanted(subject)
    runtime = resolve(subject, context).runtime
    if want is None or runtime is None or runtime.hardware is None:
        return
    model = as_dict(subject.spec.get("predictor")).get("model") if want.path == MODEL else None
    resources = as_dict(as_dict(model).get("resources")) if isinstance(model, dict) else {}
    requested: dict[str, JsonPath] = {}
    for section in ("limits", "requests"):
        for name in as_dict(resources.get(section)):
            if _is_accelerator(str(name)):
                requested.setdefault(str(name), (*want.path, "resources", section, str(name)))
    key = runtime.resource_key
    if key is None:
        for name, path in sorted(requested.items()):
            yield Finding(path, f"requests {name}, but runtime {runtime.name} is built for CPU ({runtime.hardware})")
        return
    for name, path in sorted(requested.items()):
        if not _belongs_to(name, key):
            yield Finding(
                path,
                f"requests {name}, but runtime {runtime.name} is built for {key} ({runtime.hardware})",
            )
    if not any(_belongs_to(name, key) for name in requested):
        yield Finding(
            (*want.path, "resources") if resources else want.path,
            f"requests no {key}, which runtime {runtime.name} needs ({runtime.hardware}); add it to resources.limits",
        )


@rule(id="RTC805", summary="A runtime's requirements are well-formed", kinds=RUNTIME_KINDS)
def requirements_shape(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """`requirements:` in a catalog runtime has only the keys rtc checks
    (RTC803): `env` (a list of variable names), `annotations` (a map of
    strings) and `podSecurityContext` (a map). A misspelt key would make a
    requirement silently unchecked, so it is an error.
    """
    requirements = subject.requirements
    source: JsonPath = ("metadata",)
    span = subject.catalog_spans.get("requirements")
    for key in sorted(requirements):
        if key not in REQUIREMENT_KEYS:
            close = difflib.get_close_matches(key, REQUIREMENT_KEYS, n=1)
            yield Finding(
                source,
                f"requirements has an unknown key {key!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
                span=span,
            )
    env = requirements.get("env", [])
    if not isinstance(env, list) or not all(isinstance(n, str) and n for n in env):
        yield Finding(source, "requirements.env must be a list of environment variable names", span=span)
    annotations = requirements.get("annotations", {})
    if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
        yield Finding(source, "requirements.annotations must map annotation keys to string values", span=span)
    if not isinstance(requirements.get("podSecurityContext", {}), dict):
        yield Finding(source, "requirements.podSecurityContext must be a map of securityContext fields", span=span)
