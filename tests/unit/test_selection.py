"""The port of KServe's selection and webhook checks (compiler/selection.py)."""

from __future__ import annotations

from typing import Any

from compiler.selection import (
    Request,
    Runtime,
    default_protocol,
    inconsistent_priority,
    runtime_from,
    supporting_runtimes,
    tied_with_first,
    webhook_priority_conflict,
)


def csr(name: str, *formats: dict[str, Any], protocols: list[str] | None = None, **spec: Any) -> Runtime:
    body: dict[str, Any] = {
        "kind": "ClusterServingRuntime",
        "metadata": {"name": name},
        "spec": {"supportedModelFormats": list(formats), **spec},
    }
    if protocols is not None:
        body["spec"]["protocolVersions"] = protocols
    return runtime_from(body)


def fmt(name: str, version: str | None = "1", auto: bool | None = True, priority: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name}
    if version is not None:
        entry["version"] = version
    if auto is not None:
        entry["autoSelect"] = auto
    if priority is not None:
        entry["priority"] = priority
    return entry


def names(runtimes: list[Runtime]) -> list[str]:
    return [r.name for r in runtimes]


def test_unset_auto_select_is_false() -> None:
    runtime = csr("a", fmt("transformers", auto=None))
    assert not runtime.supports("transformers", "1", named=False)
    assert runtime.supports("transformers", "1", named=True)


def test_label_matching_is_exact() -> None:
    runtime = csr("a", fmt("vLLM", "1"))
    assert runtime.supports("vLLM", None, named=False)  # no version asked: any version
    assert runtime.supports("vLLM", "1", named=False)
    assert not runtime.supports("vLLM", "1.0", named=False)
    assert not runtime.supports("vllm", "1", named=False)
    assert not csr("b", fmt("x", "*")).supports("x", "2", named=False)


def test_protocol_defaults() -> None:
    assert default_protocol("triton") == "v2"
    assert default_protocol("vLLM") == "v2"
    assert default_protocol("transformers") == "v1"


def test_order_protocol_then_priority_then_name() -> None:
    runtimes = [
        csr("b-no-priority", fmt("t")),
        csr("a-no-priority", fmt("t")),
        csr("c-priority-1", fmt("t", priority=1)),
        csr("d-priority-5", fmt("t", priority=5)),
        csr("e-v2-only", fmt("t", priority=9), protocols=["v2"]),
    ]
    ordered = supporting_runtimes(runtimes, Request("t", "1", "v1"))
    assert names(ordered) == ["d-priority-5", "c-priority-1", "a-no-priority", "b-no-priority"]
    # The priority sort runs over the whole list: a higher priority beats a lower protocol rank.
    v2 = supporting_runtimes(runtimes, Request("t", "1", "v2"))
    assert names(v2)[0] == "e-v2-only"


def test_namespaced_runtimes_come_first() -> None:
    sr = runtime_from(
        {
            "kind": "ServingRuntime",
            "metadata": {"name": "ns-runtime", "namespace": "team"},
            "spec": {"supportedModelFormats": [fmt("t")]},
        }
    )
    ordered = supporting_runtimes([csr("cluster", fmt("t", priority=100)), sr], Request("t", None, "v1", "team"))
    assert names(ordered) == ["ns-runtime", "cluster"]
    assert names(supporting_runtimes([sr], Request("t", None, "v1", "other"))) == []


def test_filters_disabled_multimodel_multinode() -> None:
    runtimes = [
        csr("disabled", fmt("t"), disabled=True),
        csr("mms", fmt("t"), multiModel=True),
        csr("multinode", fmt("t"), workerSpec={"containers": []}),
        csr("plain", fmt("t")),
    ]
    assert names(supporting_runtimes(runtimes, Request("t", None, "v1"))) == ["plain"]
    assert names(supporting_runtimes(runtimes, Request("t", None, "v1", multi_node=True))) == ["multinode"]


def test_ties() -> None:
    ordered = supporting_runtimes([csr("a", fmt("t")), csr("b", fmt("t"))], Request("t", None, "v1"))
    assert names(tied_with_first(ordered, "t")) == ["a", "b"]
    decided = supporting_runtimes([csr("a", fmt("t")), csr("b", fmt("t", priority=1))], Request("t", None, "v1"))
    assert names(tied_with_first(decided, "t")) == ["b"]


def test_webhook_conflict_needs_a_shared_protocol_and_equal_priority() -> None:
    a = csr("a", fmt("Transformers", priority=1), protocols=["v1", "v2"])
    b = csr("b", fmt("transformers", priority=1), protocols=["v2"])
    assert webhook_priority_conflict(a, b) == "Transformers"
    assert webhook_priority_conflict(a, csr("c", fmt("transformers", priority=2), protocols=["v2"])) is None
    assert webhook_priority_conflict(a, csr("d", fmt("transformers", priority=1), protocols=["grpc-v2"])) is None
    # Two empty protocol lists share nothing, so the webhook lets them through.
    assert webhook_priority_conflict(csr("e", fmt("t", priority=1)), csr("f", fmt("t", priority=1))) is None
    assert webhook_priority_conflict(a, csr("g", fmt("transformers", "2", priority=1), protocols=["v2"])) is None


def test_priority_per_name_within_a_runtime() -> None:
    assert inconsistent_priority(csr("a", fmt("t", "1", priority=1), fmt("t", "2", priority=2))) == "t"
    assert inconsistent_priority(csr("a", fmt("t", "1", priority=1), fmt("t", "2", priority=1))) is None
    assert inconsistent_priority(csr("a", fmt("t", "1", priority=1), fmt("t", "2", auto=False, priority=2))) is None
