"""What lint derives from a manifest is computed once per object within a lint run, and only then."""

from __future__ import annotations

from typing import Any

from compiler.rules import k8s


def _runtime() -> dict[str, Any]:
    return {
        "kind": "ClusterServingRuntime",
        "spec": {
            "containers": [{"name": "kserve-container", "image": "vllm/vllm-openai:v0.6.0", "args": ["--port=8080"]}]
        },
    }


def test_within_a_run_each_object_is_read_once(monkeypatch: Any) -> None:
    calls: list[int] = []
    real = k8s._runtime_containers

    def counting(body: dict[str, Any]) -> tuple[k8s.Container, ...]:
        calls.append(id(body))
        return real(body)

    monkeypatch.setattr(k8s, "_runtime_containers", counting)
    first, second = _runtime(), _runtime()
    with k8s.derived_once():
        for _ in range(3):
            assert [c.name for c in k8s.runtime_containers(first)] == ["kserve-container"]
            assert k8s.kserve_container(second) is not None
        container = k8s.runtime_containers(first)[0]
        assert k8s.listen_ports(container) is k8s.listen_ports(container)
    assert sorted(calls) == sorted([id(first), id(second)])


def test_outside_a_run_a_changed_object_gives_a_new_answer() -> None:
    body = _runtime()
    with k8s.derived_once():
        assert len(k8s.runtime_containers(body)) == 1
    body["spec"]["containers"].append({"name": "sidecar", "image": "busybox:1.36"})
    assert [c.name for c in k8s.runtime_containers(body)] == ["kserve-container", "sidecar"]
    with k8s.derived_once():
        assert len(k8s.runtime_containers(body)) == 2
        # Nested runs share the outer run's memo and leave it in place.
        with k8s.derived_once():
            assert len(k8s.runtime_containers(body)) == 2
        assert k8s._memo is not None
    assert k8s._memo is None
