"""KServe's runtime selection and its admission webhook, ported from Go.

Sources (kserve/kserve v0.20.0): pkg/apis/serving/v1beta1/predictor_model.go
(GetSupportingRuntimes, RuntimeSupportsModel, the sort functions,
GetProtocolVersionPriority), pkg/apis/serving/v1alpha1/servingruntime_types.go
(IsAutoSelectEnabled, GetPriority, IsProtocolVersionSupported),
inference_service_defaults.go (protocol defaults) and
pkg/webhook/admission/servingruntime/servingruntime_webhook.go. The facts the
lint rules rest on:

- a format is auto-selectable only with `autoSelect: true` (unset is false);
- an InferenceService matches a runtime on the exact, case-sensitive strings
  `mt:<name>` or `mt:<name>:<version>`; without a version it matches any;
- the protocol defaults to v1 (v2 for the formats `triton` and `vLLM`); a
  runtime with no protocolVersions accepts every protocol;
- candidates sort by their lowest listed protocol, then (unknowable from Git)
  newest creationTimestamp, then name; then, stably, by the priority of the
  first format entry with the requested name, set before unset, higher first;
- every matching namespaced ServingRuntime comes before every ClusterServingRuntime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROTOCOL_RANK = {"v1": 1, "v2": 2, "grpc-v1": 3, "grpc-v2": 4}
UNKNOWN_PROTOCOL_RANK = 5
PROTOCOLS = tuple(PROTOCOL_RANK)
V2_DEFAULT_FORMATS = ("triton", "vLLM")


@dataclass(frozen=True)
class ModelFormat:
    name: str
    version: str | None
    auto_select: bool
    priority: int | None
    index: int


@dataclass(frozen=True)
class Runtime:
    """What selection reads from a (Cluster)ServingRuntime."""

    name: str
    kind: str
    namespace: str | None
    formats: tuple[ModelFormat, ...]
    protocols: tuple[str, ...]
    disabled: bool
    multi_model: bool
    multi_node: bool

    @property
    def cluster_scoped(self) -> bool:
        return self.kind == "ClusterServingRuntime"

    def priority(self, format_name: str) -> int | None:
        """GetPriority: the first entry with this exact name, autoSelect or not."""
        for entry in self.formats:
            if entry.name == format_name:
                return entry.priority
        return None

    def supports(self, name: str, version: str | None, *, named: bool) -> bool:
        """RuntimeSupportsModel: label-set membership; every entry counts when
        the InferenceService names the runtime, only autoSelect ones otherwise."""
        labels: set[str] = set()
        for entry in self.formats:
            if named or entry.auto_select:
                labels.add(f"mt:{entry.name}")
                if entry.version is not None:
                    labels.add(f"mt:{entry.name}:{entry.version}")
        wanted = f"mt:{name}:{version}" if version is not None else f"mt:{name}"
        return wanted in labels

    def accepts_protocol(self, protocol: str) -> bool:
        return not self.protocols or protocol in self.protocols

    @property
    def protocol_rank(self) -> int:
        """GetProtocolVersionPriority: the rank of the lowest listed protocol."""
        if not self.protocols:
            return UNKNOWN_PROTOCOL_RANK
        return min(PROTOCOL_RANK.get(p, UNKNOWN_PROTOCOL_RANK) for p in self.protocols)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def runtime_from(body: dict[str, Any]) -> Runtime:
    raw_metadata, raw_spec = body.get("metadata"), body.get("spec")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    formats = []
    for index, entry in enumerate(spec.get("supportedModelFormats") or []):
        if not isinstance(entry, dict):
            continue
        priority = entry.get("priority")
        formats.append(
            ModelFormat(
                name=str(entry.get("name", "")),
                version=_text(entry.get("version")),
                auto_select=entry.get("autoSelect") is True,
                priority=priority if isinstance(priority, int) and not isinstance(priority, bool) else None,
                index=index,
            )
        )
    protocols = tuple(str(p) for p in spec.get("protocolVersions") or [] if isinstance(p, str))
    namespace = metadata.get("namespace")
    return Runtime(
        name=str(metadata.get("name", "")),
        kind=str(body.get("kind", "")),
        namespace=str(namespace) if namespace is not None else None,
        formats=tuple(formats),
        protocols=protocols,
        disabled=spec.get("disabled") is True,
        multi_model=spec.get("multiModel") is True,
        multi_node=isinstance(spec.get("workerSpec"), dict),
    )


def default_protocol(format_name: str) -> str:
    """The protocol an InferenceService without protocolVersion asks for."""
    return "v2" if format_name in V2_DEFAULT_FORMATS else "v1"


@dataclass(frozen=True)
class Request:
    """What an InferenceService asks selection for."""

    format_name: str
    version: str | None
    protocol: str
    namespace: str | None = None
    multi_node: bool = False


def _sort_key(runtime: Runtime) -> tuple[int, str]:
    # creationTimestamp is not in Git: equal for all, so name decides, as in KServe's last tie-break.
    return (runtime.protocol_rank, runtime.name)


def _by_priority(candidates: list[Runtime], format_name: str) -> list[Runtime]:
    """sortSupportedRuntimeByPriority (stable): set before unset, higher first."""

    def key(runtime: Runtime) -> tuple[int, int]:
        priority = runtime.priority(format_name)
        return (0, -priority) if priority is not None else (1, 0)

    return sorted(candidates, key=key)


def _eligible(runtime: Runtime, request: Request) -> bool:
    return (
        not runtime.disabled
        and not runtime.multi_model
        and runtime.supports(request.format_name, request.version, named=False)
        and runtime.accepts_protocol(request.protocol)
        and runtime.multi_node == request.multi_node
    )


def supporting_runtimes(runtimes: list[Runtime], request: Request) -> list[Runtime]:
    """GetSupportingRuntimes: namespaced runtimes of the request's namespace
    (any namespace when the request has none), then cluster runtimes, each
    group in KServe's order."""
    namespaced = [
        r for r in runtimes if not r.cluster_scoped and (request.namespace is None or r.namespace == request.namespace)
    ]
    cluster = [r for r in runtimes if r.cluster_scoped]
    ordered: list[Runtime] = []
    for group in (namespaced, cluster):
        eligible = sorted((r for r in group if _eligible(r, request)), key=_sort_key)
        ordered.extend(_by_priority(eligible, request.format_name))
    return ordered


def tied_with_first(ordered: list[Runtime], format_name: str) -> list[Runtime]:
    """The runtimes KServe cannot order by anything in Git: same scope, same
    lowest protocol and same priority (both unset or equal) as the first. Only
    the creation time (newest wins) separates them."""
    if not ordered:
        return []
    first = ordered[0]
    return [
        r
        for r in ordered
        if r.cluster_scoped == first.cluster_scoped
        and r.namespace == first.namespace
        and r.protocol_rank == first.protocol_rank
        and r.priority(format_name) == first.priority(format_name)
    ]


def requests_for(runtimes: list[Runtime]) -> list[Request]:
    """Every distinct request an InferenceService could make that some runtime
    auto-selects: each auto-selected (name, version) with and without the
    version, under every protocol and both multi-node settings."""
    seen: set[tuple[str, str | None]] = set()
    for runtime in runtimes:
        for entry in runtime.formats:
            if entry.auto_select:
                seen.add((entry.name, entry.version))
                seen.add((entry.name, None))
    return [
        Request(name, version, protocol, multi_node=multi_node)
        for name, version in sorted(seen, key=lambda item: (item[0], item[1] or ""))
        for protocol in PROTOCOLS
        for multi_node in (False, True)
    ]


def webhook_priority_conflict(new: Runtime, existing: Runtime) -> str | None:
    """validateServingRuntimePriority: the format both auto-select at the same
    version with the same priority while sharing a protocol, or None."""
    if new.multi_model != existing.multi_model or existing.disabled or new.name == existing.name:
        return None
    if not any(p in new.protocols for p in existing.protocols):
        return None
    for old_entry in existing.formats:
        for new_entry in new.formats:
            if not (old_entry.auto_select and new_entry.auto_select):
                continue
            if old_entry.name.casefold() != new_entry.name.casefold() or old_entry.version != new_entry.version:
                continue
            if old_entry.priority is not None and old_entry.priority == new_entry.priority:
                return new_entry.name
    return None


def same_scope(a: Runtime, b: Runtime) -> bool:
    """The webhook compares SRs with SRs of their namespace and CSRs with CSRs."""
    if a.cluster_scoped != b.cluster_scoped:
        return False
    return a.cluster_scoped or a.namespace == b.namespace


def inconsistent_priority(runtime: Runtime) -> str | None:
    """validateModelFormatPrioritySame: an auto-selected format name given two
    different priorities in one runtime, or None."""
    seen: dict[str, int | None] = {}
    for entry in runtime.formats:
        if not entry.auto_select:
            continue
        if entry.name in seen:
            earlier = seen[entry.name]
            if earlier is not None and entry.priority is not None and earlier != entry.priority:
                return entry.name
        else:
            seen[entry.name] = entry.priority
    return None
