"""Model formats and runtime selection: what KServe's webhook rejects and what
its selection cannot decide (compiler/selection.py is the port of both)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.rules.k8s import as_dict, as_list
from compiler.rules.registry import Finding, LintContext, Subject, rule
from compiler.selection import (
    Request,
    Runtime,
    default_protocol,
    inconsistent_priority,
    requests_for,
    same_scope,
    supporting_runtimes,
    tied_with_first,
    webhook_priority_conflict,
)

# KServe's own spellings, where it treats a name specially or ships a runtime for it.
KNOWN_FORMATS = (
    "vLLM",
    "triton",
    "sklearn",
    "xgboost",
    "lightgbm",
    "onnx",
    "tensorflow",
    "pytorch",
    "huggingface",
    "mlflow",
    "paddle",
    "pmml",
    "openvino_ir",
)
_WILDCARD = re.compile(r"[*?\[\]<>=~^,|\s]|(^|\.)[xX](\.|$)")


def _format_path(index: int, *rest: str) -> tuple[str | int, ...]:
    return ("spec", "supportedModelFormats", index, *rest)


@rule(id="RTC501", summary="Model format names and versions are exact strings")
def exact_formats(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """`supportedModelFormats[].name` and `.version` are compared as exact,
    case-sensitive strings: no wildcards, ranges or alternatives.

    KServe builds labels `mt:<name>` and `mt:<name>:<version>` and looks the
    InferenceService's format up in that set. `version: "*"` matches only an
    InferenceService asking for version `*` (KServe issue #4464), `1.x` only
    `1.x`, and `vllm` is not `vLLM`. rtc reports wildcard and range
    characters, an empty name, and a name that differs from a KServe format
    (`vLLM`, `triton`, `sklearn`, `huggingface`, …) only in case, because
    KServe's protocol default (v2 for `vLLM` and `triton`) and its own
    runtimes use the exact spelling.
    """
    for index, entry in enumerate(as_list(subject.spec.get("supportedModelFormats"))):
        entry = as_dict(entry)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            yield Finding(_format_path(index), "model format has no name")
            continue
        if _WILDCARD.search(name):
            yield Finding(_format_path(index, "name"), f"model format name {name!r} is not an exact string")
        else:
            for known in KNOWN_FORMATS:
                if name != known and name.lower() == known.lower():
                    yield Finding(
                        _format_path(index, "name"),
                        f"model format {name!r} differs from KServe's {known!r} only in case; matching is "
                        "case-sensitive",
                    )
        version = entry.get("version")
        if version is not None and _WILDCARD.search(str(version)):
            yield Finding(
                _format_path(index, "version"),
                f"model format version {version!r} is not an exact string; KServe matches versions literally",
                hint="list each version an InferenceService may ask for as its own entry, e.g. '1' and '2'",
            )


@rule(id="RTC502", summary="One priority per auto-selected format name within a runtime")
def consistent_priority(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Within one runtime, the auto-selected entries of a format name carry
    the same priority.

    KServe looks the priority up by format name only (the first entry with
    that name wins), so two versions with different priorities make selection
    unpredictable (KServe issue #3180); the admission webhook rejects such a
    runtime ("different priorities assigned for the model format").
    """
    runtime = context.runtime_model(subject)
    name = inconsistent_priority(runtime)
    if name is None:
        return
    entries = [e for e in runtime.formats if e.name == name and e.auto_select]
    priorities = ", ".join(str(e.priority) for e in entries if e.priority is not None)
    yield Finding(
        _format_path(entries[-1].index, "priority"),
        f"model format {name!r} is auto-selected with different priorities ({priorities}); KServe's webhook "
        "rejects the runtime",
    )


def _auto_selectors(context: LintContext) -> dict[tuple[str, str | None], list[int]]:
    """Positions in context.runtimes by each (format name, casefolded; version) auto-selected."""
    index: dict[tuple[str, str | None], list[int]] = {}
    for position, other in enumerate(context.runtimes):
        keys = {(e.name.casefold(), e.version) for e in context.runtime_model(other).formats if e.auto_select}
        for key in keys:
            index.setdefault(key, []).append(position)
    return index


def _priority_rivals(subject: Subject, context: LintContext) -> tuple[Runtime, list[Runtime]]:
    """This runtime and the others of its scope that auto-select one of its formats at
    the same version, in the cluster's order: the only ones the webhook's priority
    check can compare it with. (The index keeps the check linear: a fleet cluster
    has hundreds of runtimes.)"""
    me = context.runtime_model(subject)
    index = context.shared.get("auto-selectors")
    if not isinstance(index, dict):
        index = context.shared["auto-selectors"] = _auto_selectors(context)
    positions: set[int] = set()
    for key in {(e.name.casefold(), e.version) for e in me.formats if e.auto_select}:
        positions.update(index.get(key, []))
    rivals = []
    for position in sorted(positions):
        other = context.runtimes[position]
        runtime = context.runtime_model(other)
        if other is not subject and same_scope(me, runtime) and runtime.name != me.name:
            rivals.append(runtime)
    return me, rivals


@rule(id="RTC503", summary="No two runtimes auto-select a format at the same priority")
def equal_priority(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Two runtimes of one scope (all ClusterServingRuntimes, or the
    ServingRuntimes of one namespace) that auto-select the same format name
    (compared case-insensitively) and version, share a protocol version and
    give it the same priority.

    KServe's admission webhook rejects the second one applied ("same priority
    assigned for the model format"), so Argo CD or Flux fails to sync it.
    Give one a higher priority, or `autoSelect: false` to the one the
    platform selects by name. The check is the webhook's own: runtimes that
    list no protocolVersions share none, so the webhook lets them through;
    RTC504 reports the ambiguity that remains.
    """
    me, others = _priority_rivals(subject, context)
    if me.disabled:
        return
    for other in sorted(others, key=lambda r: r.name):
        name = webhook_priority_conflict(me, other)
        if name is None:
            continue
        entry = next(e for e in me.formats if e.auto_select and e.name.casefold() == name.casefold())
        version = f" version {entry.version}" if entry.version is not None else ""
        shared = ", ".join(p for p in me.protocols if p in other.protocols)
        yield Finding(
            _format_path(entry.index, "priority"),
            f"{other.name} also auto-selects {name!r}{version} with priority {entry.priority} over {shared}; "
            f"KServe's webhook rejects the second of them",
        )


@rule(id="RTC504", summary="Auto-selection is decided by priority, not by creation time")
def ambiguous_selection(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """For every InferenceService that could auto-select this runtime, KServe's
    order puts one runtime first by something in Git.

    rtc replays KServe's selection for every request an InferenceService
    could make (each auto-selected format with and without its version, every
    protocol, with and without workerSpec): candidates sort by their lowest
    protocol version, then by priority (set before unset, higher first). When
    this runtime ties for first place with another, only the creation time
    decides (newest wins): the runtime an InferenceService gets changes with
    the order Argo CD applied them (KServe issue #3073). An InferenceService
    asking for a format without a version matches every version, so
    `transformers` v1 and v2 runtimes compete for it too.

    Give the preferred runtime a higher priority, or set `autoSelect: false`
    on runtimes the platform selects by name.
    """
    me = context.runtime_model(subject)
    if me.disabled or me.multi_model or not any(e.auto_select for e in me.formats):
        return
    group = [me]
    for other in context.runtimes:
        if other is subject:
            continue
        runtime = context.runtime_model(other)
        if runtime.name != me.name and same_scope(me, runtime):
            group.append(runtime)
    reported: dict[tuple[str, ...], list[str]] = {}
    for request in requests_for(group):
        scoped = Request(request.format_name, request.version, request.protocol, me.namespace, request.multi_node)
        tied = tied_with_first(supporting_runtimes(group, scoped), request.format_name)
        if len(tied) < 2 or me not in tied:
            continue
        rivals = tuple(sorted(r.name for r in tied if r.name != me.name))
        wanted = request.format_name + (f":{request.version}" if request.version is not None else "")
        asks = reported.setdefault(rivals, [])
        if wanted not in asks:
            asks.append(wanted)
    for rivals, asks in sorted(reported.items()):
        entry = next(e for e in me.formats if e.auto_select and e.name == asks[0].split(":")[0])
        priority = me.priority(entry.name)
        why = "none of them sets a priority" if priority is None else f"all have priority {priority}"
        yield Finding(
            _format_path(entry.index),
            f"auto-selection of {' and '.join(asks)} ties with {', '.join(rivals)}: {why}, so KServe picks the newest",
            hint="give the preferred runtime a higher priority, or autoSelect: false where the platform "
            "names the runtime",
        )


@rule(id="RTC505", summary="autoSelect is stated, not left to KServe's default")
def explicit_auto_select(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Each `supportedModelFormats` entry says `autoSelect: true` or `false`.

    Unset means false: KServe never auto-selects the runtime for that format,
    and an InferenceService must name it in `spec.predictor.model.runtime`.
    That is easy to misread in both directions, as a runtime that competes in
    auto-selection (it does not) or as one that will be found by format (it
    will not). Writing it down makes the intent reviewable.
    """
    for index, entry in enumerate(as_list(subject.spec.get("supportedModelFormats"))):
        entry = as_dict(entry)
        if "autoSelect" not in entry:
            yield Finding(
                _format_path(index),
                f"model format {entry.get('name')!r} does not set autoSelect; KServe treats that as false, so "
                "InferenceServices must name this runtime",
            )


@rule(id="RTC506", summary="Auto-selected runtimes accept the protocol InferenceServices ask for by default")
def default_protocol_supported(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """A runtime that lists `protocolVersions` and auto-selects a format
    accepts the protocol an InferenceService without `protocolVersion` asks
    for: v1, or v2 for the formats `triton` and `vLLM`.

    Otherwise the runtime is silently skipped for those InferenceServices and
    they fail with "No runtime found" (KServe issue #3176). Add the protocol,
    or document that InferenceServices must set `protocolVersion`.
    """
    runtime = context.runtime_model(subject)
    if not runtime.protocols or runtime.disabled:
        return
    for entry in runtime.formats:
        if not entry.auto_select:
            continue
        wanted = default_protocol(entry.name)
        if wanted not in runtime.protocols:
            yield Finding(
                _format_path(entry.index),
                f"an InferenceService for {entry.name!r} without protocolVersion asks for {wanted}, which this "
                f"runtime does not list ({', '.join(runtime.protocols)}); auto-selection skips it",
            )
