"""Metadata: the platform's labels and annotations, and nothing copied from a live cluster."""

from __future__ import annotations

import re
from collections.abc import Iterator

from compiler.rules.k8s import as_dict
from compiler.rules.registry import RUNTIME_KINDS, SERVICE_KINDS, Finding, LintContext, Subject, rule

_VERSION = re.compile(r"^\d+(\.\d+)*$")


@rule(id="RTC101", summary="Runtimes carry the platform's required labels and annotations")
def platform_metadata(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """The platform's UI lists and filters runtimes by metadata it reads.

    **Alauda profile:** the label `cpaas.io/runtime-class` (which engine, e.g.
    `vllm`, `mindie`) and the annotation `cpaas.io/display-name` (the name in
    the runtime picker) must be present and not empty; a runtime without them
    is missing from, or unnamed in, the platform's lists.

    **Upstream KServe profile:** nothing is required.

    The accelerator labels are checked by RTC102.
    """
    profile = context.profile
    labels = as_dict(subject.metadata.get("labels"))
    annotations = as_dict(subject.metadata.get("annotations"))
    for key in profile.required_labels:
        value = labels.get(key)
        if value is None:
            yield Finding(("metadata", "labels"), f"missing label {key}, which the {profile.name} platform requires")
        elif not str(value).strip():
            yield Finding(("metadata", "labels", key), f"label {key} is empty")
    for key in profile.required_annotations:
        value = annotations.get(key)
        if value is None:
            yield Finding(
                ("metadata", "annotations"), f"missing annotation {key}, which the {profile.name} platform requires"
            )
        elif not str(value).strip():
            yield Finding(("metadata", "annotations", key), f"annotation {key} is empty")


@rule(id="RTC102", summary="One accelerator vocabulary: accelerator type and its version label")
def accelerator_vocabulary(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Every runtime says which accelerator it is built for, in one vocabulary.

    **Alauda profile:** `cpaas.io/accelerator-type` is one of `nvidia`,
    `ascend`, `amd` or `cpu`. An accelerator type needs its version label and
    no other: `nvidia` → `cpaas.io/cuda-version`, `ascend` →
    `cpaas.io/cann-version`, `amd` → `cpaas.io/rocm-version`; `cpu` has none.
    Versions are dotted numbers (`12.1`, `8.5.1`).

    The vendor's own examples disagree: vLLM-ascend says `ascend`, MindIE says
    `npu`. A filter on the label then finds half of the Ascend runtimes, so
    rtc picks `ascend` (see catalog/lib/platforms/alauda.libsonnet) and
    reports the other spellings (`npu`, `huawei`, `gpu`, `cuda`, `rocm`) with
    the word to use instead.

    **Upstream KServe profile:** no vocabulary; nothing is checked.
    """
    profile = context.profile
    if profile.accelerator_label is None:
        return
    label = profile.accelerator_label
    labels = as_dict(subject.metadata.get("labels"))
    words = ", ".join(profile.accelerators)
    value = labels.get(label)
    if value is None:
        yield Finding(("metadata", "labels"), f"missing label {label} (one of {words})")
        return
    word = str(value)
    if word not in profile.accelerators:
        preferred = profile.synonyms.get(word.lower())
        if preferred is not None:
            yield Finding(
                ("metadata", "labels", label),
                f"{label} is {word!r}; this catalog's word for that accelerator is {preferred!r}",
                hint=f"one word per accelerator, so a filter on {label}={preferred} finds every such runtime",
            )
        else:
            yield Finding(("metadata", "labels", label), f"{label} is {word!r}, which is not one of {words}")
        return
    wanted_kind = profile.accelerators[word]
    for kind in sorted({k for k in profile.accelerators.values() if k is not None}):
        key = profile.version_label.format(kind=kind)
        present = labels.get(key)
        if kind == wanted_kind:
            if present is None:
                yield Finding(("metadata", "labels"), f"missing label {key}, which {word} runtimes need")
            elif not _VERSION.match(str(present)):
                yield Finding(("metadata", "labels", key), f"{key} is {present!r}, not a dotted version like 12.1")
        elif present is not None:
            yield Finding(("metadata", "labels", key), f"label {key} does not belong on {word} runtimes")


# Fields the API server writes; copied into Git they are stale at once, and
# some (resourceVersion, uid) make an apply fail or hit the wrong object.
_SERVER_FIELDS = (
    "creationTimestamp",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "generation",
    "managedFields",
    "resourceVersion",
    "selfLink",
    "uid",
)
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@rule(id="RTC103", summary="No server-populated fields in Git", kinds=RUNTIME_KINDS + SERVICE_KINDS)
def server_fields(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Fields the API server fills in do not belong in a manifest kept in Git.

    `metadata.creationTimestamp`, `generation`, `resourceVersion`, `uid`,
    `managedFields`, `selfLink`, `deletionTimestamp`,
    `deletionGracePeriodSeconds`, the top-level `status` and the
    `kubectl.kubernetes.io/last-applied-configuration` annotation are what
    `kubectl get -o yaml` adds. In Git they are stale from the first commit; a
    stale `resourceVersion` makes an update fail with a conflict, and a `uid`
    makes an apply refer to an object that no longer exists. The vendor's
    MLServer example carries two of them.
    """
    metadata = subject.metadata
    for key in _SERVER_FIELDS:
        if key in metadata:
            yield Finding(
                ("metadata", key), f"metadata.{key} is written by the API server; remove it from the manifest"
            )
    if _LAST_APPLIED in as_dict(metadata.get("annotations")):
        yield Finding(
            ("metadata", "annotations", _LAST_APPLIED),
            f"annotation {_LAST_APPLIED} is written by kubectl apply; remove it from the manifest",
        )
    if "status" in subject.body:
        yield Finding(("status",), "status is written by the controllers; remove it from the manifest")
