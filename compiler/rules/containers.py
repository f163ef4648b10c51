"""Containers: the one KServe runs, its security context, its shared memory, its secrets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.rules.k8s import (
    KSERVE_CONTAINER,
    TRANSFORMER_CONTAINER,
    WORKER_CONTAINER,
    Container,
    as_dict,
    as_list,
    command_line,
    containers_of,
    detect_server,
    kserve_container,
    runtime_containers,
)
from compiler.rules.registry import RUNTIME_KINDS, SERVICE_KINDS, Finding, LintContext, Subject, rule
from compiler.secrets import env_credential, text_credential


@rule(id="RTC601", summary="The serving container is named kserve-container")
def serving_container(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """The runtime has a container named `kserve-container`, and no other
    containers KServe would drop.

    KServe merges the InferenceService's predictor into the runtime container
    named `kserve-container`; without one the InferenceService fails. The pod
    gets only that container and an optional `transformer-container`: any
    other container in `spec.containers` is silently dropped. A `workerSpec`
    has one container, named `worker-container`.
    """
    containers = runtime_containers(subject.body)
    if kserve_container(subject.body) is None:
        names = ", ".join(c.name for c in containers if c.path[1] == "containers") or "none"
        yield Finding(
            ("spec", "containers"),
            f"no container is named {KSERVE_CONTAINER} (containers: {names}); KServe cannot merge an "
            "InferenceService into this runtime",
        )
    for container in containers:
        if container.path[1] == "containers":
            if container.name not in (KSERVE_CONTAINER, TRANSFORMER_CONTAINER) and kserve_container(subject.body):
                yield Finding(
                    container.at("name"),
                    f"container {container.name!r} is dropped by KServe, which runs only {KSERVE_CONTAINER} "
                    f"and {TRANSFORMER_CONTAINER}",
                )
        elif container.name != WORKER_CONTAINER:
            yield Finding(
                container.at("name"),
                f"workerSpec container is named {container.name!r}; KServe expects {WORKER_CONTAINER}",
            )


def _used_containers(subject: Subject) -> list[Container]:
    return [
        c
        for c in runtime_containers(subject.body)
        if c.name in (KSERVE_CONTAINER, TRANSFORMER_CONTAINER, WORKER_CONTAINER)
    ]


@rule(id="RTC602", summary="Containers run as non-root, without privilege escalation, with all capabilities dropped")
def security_baseline(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Every container KServe runs has a restrictive `securityContext`:
    `runAsNonRoot: true` (and no `runAsUser: 0`), `allowPrivilegeEscalation:
    false`, `capabilities.drop` containing `ALL`, and not `privileged`.

    This is the Pod Security "restricted" baseline and what cluster policies
    (Kyverno's require-run-as-nonroot, KServe issue #3928) enforce: a runtime
    that misses it is refused in such a namespace, or runs with more power
    than a model server needs. (A ServingRuntime has no pod-level
    securityContext: each container carries its own.)

    Some images cannot run that way; MindIE's Ascend driver stack needs root.
    Such a runtime says so next to its definition, with the reason, and rtc
    reports the exception in docs instead of the finding:

    ```jsonnet
    rtc.runtime {
      name: 'mindie',
      lintExceptions: { RTC602: 'the Ascend driver stack in this image works only as root' },
    }
    ```
    """
    for container in _used_containers(subject):
        raw = container.body.get("securityContext")
        security: dict[str, Any] = raw if isinstance(raw, dict) else {}
        name = container.name
        if security.get("privileged") is True:
            yield Finding(container.at("securityContext", "privileged"), f"{name} runs privileged")
        missing = []
        if security.get("runAsUser") == 0:
            yield Finding(container.at("securityContext", "runAsUser"), f"{name} runs as root (runAsUser: 0)")
        elif security.get("runAsNonRoot") is not True:
            missing.append("runAsNonRoot: true")
        if security.get("allowPrivilegeEscalation") is not False:
            missing.append("allowPrivilegeEscalation: false")
        if "ALL" not in as_list(as_dict(security.get("capabilities")).get("drop")):
            missing.append("capabilities.drop: [ALL]")
        if missing and isinstance(raw, dict):
            yield Finding(container.at("securityContext"), f"{name}'s securityContext lacks {', '.join(missing)}")
        elif missing:
            yield Finding(container.path, f"{name} has no securityContext; it needs {', '.join(missing)}")


def _mounts_shm(container: Container) -> str | None:
    for mount in as_list(container.body.get("volumeMounts")):
        mount = as_dict(mount)
        if str(mount.get("mountPath", "")).rstrip("/") == "/dev/shm":
            name = mount.get("name")
            return str(name) if name is not None else ""
    return None


@rule(id="RTC603", summary="Multi-process LLM servers mount a memory-backed, size-limited /dev/shm")
def shared_memory(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """A runtime running vLLM (also vLLM-ascend), MindIE, SGLang or TGI mounts
    an `emptyDir` with `medium: Memory` and a `sizeLimit` at `/dev/shm` in
    kserve-container.

    These servers run several processes that exchange tensors through shared
    memory (NCCL on GPUs, HCCL on Ascend, torch multiprocessing). The
    container runtime's default `/dev/shm` is 64 MiB, and tensor parallelism
    fails with "Error while creating shared memory segment" (KServe issue
    #3791). A memory-backed volume counts against the pod's memory, so a
    `sizeLimit` keeps one pod from exhausting the node.
    """
    container = kserve_container(subject.body)
    if container is None:
        return
    server = detect_server(container)
    if server is None or not server.multiprocess:
        return
    volume_name = _mounts_shm(container)
    if volume_name is None:
        yield Finding(
            container.at("volumeMounts") if "volumeMounts" in container.body else container.path,
            f"{server.name} runs several processes that share tensors through /dev/shm, but kserve-container "
            "mounts no volume there (the default is 64 MiB)",
            hint="mount an emptyDir {medium: Memory, sizeLimit: ...} at /dev/shm (rtc.shm(size))",
        )
        return
    volumes = as_list(subject.spec.get("volumes"))
    for index, volume in enumerate(volumes):
        volume = as_dict(volume)
        if volume.get("name") != volume_name:
            continue
        empty_dir = volume.get("emptyDir")
        if not isinstance(empty_dir, dict) or empty_dir.get("medium") != "Memory":
            yield Finding(
                ("spec", "volumes", index),
                f"volume {volume_name!r} mounted at /dev/shm is not an emptyDir with medium: Memory",
            )
        elif empty_dir.get("sizeLimit") in (None, ""):
            yield Finding(
                ("spec", "volumes", index, "emptyDir"),
                f"memory-backed volume {volume_name!r} at /dev/shm has no sizeLimit; it can take all the pod's memory",
            )
        return
    yield Finding(
        ("spec", "volumes"), f"kserve-container mounts volume {volume_name!r} at /dev/shm, but no volume has that name"
    )


@rule(id="RTC604", summary="No credentials in env values or arguments", kinds=RUNTIME_KINDS + SERVICE_KINDS)
def credentials(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Credentials come from a Secret (`valueFrom.secretKeyRef`), never from a
    literal in Git.

    rtc flags an env value whose name marks a credential (`*_TOKEN`,
    `*_PASSWORD`, `*_SECRET`, `*_API_KEY`, `*_ACCESS_KEY`, …) and holds a
    literal (not empty, not `$(VAR)`, not a placeholder), and any env value,
    command or argument shaped like a known credential: a Hugging Face
    `hf_…`, GitHub `ghp_…`, AWS `AKIA…` or OpenAI `sk-…` token, a Slack
    token, a JWT, a PEM private key, a URL with a password, or a literal after
    `--api-key`/`--token`/`--password`. Rendered manifests are committed and
    synced: a secret in them is published.

    The detector is compiler/secrets.py, shared with the rest of the build.
    """
    for container in containers_of(subject.body):
        for index, item in enumerate(as_list(container.body.get("env"))):
            item = as_dict(item)
            name, value = item.get("name"), item.get("value")
            if not isinstance(name, str) or not isinstance(value, str):
                continue
            hit = env_credential(name, value)
            if hit:
                yield Finding(
                    container.at("env", index, "value"),
                    f"env {name} holds {hit.what}; read it from a Secret (valueFrom.secretKeyRef)",
                )
        for path, text in command_line(container):
            hit = text_credential(text)
            if hit:
                yield Finding(path, f"{path[-2]} holds {hit.what}; pass it through an env var read from a Secret")
