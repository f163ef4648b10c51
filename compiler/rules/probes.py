"""Probes and ports: the kubelet and KServe talk to the port the server listens on,
and a large model gets the time it needs to load."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from compiler.rules.k8s import (
    PROBES,
    Container,
    as_dict,
    as_list,
    declared_ports,
    detect_server,
    kserve_container,
    listen_ports,
)
from compiler.rules.registry import Finding, LintContext, Subject, rule

# Kubernetes defaults for a probe's fields.
_DEFAULT_PERIOD, _DEFAULT_FAILURES = 10, 3
# KServe sends traffic to the first containerPort of kserve-container, or 8080.
KSERVE_DEFAULT_PORT = 8080
_LOCAL_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1\])(?::(\d{1,5}))?")
_GENERATIVE = re.compile(r"generative")


def is_llm_runtime(subject: Subject, context: LintContext) -> bool:
    """A runtime that serves large generative models: it supports an LLM
    format ([lint] llm-formats), says so in a model-type annotation, or runs a
    known LLM server."""
    spec = subject.spec
    formats = {str(as_dict(f).get("name", "")) for f in as_list(spec.get("supportedModelFormats"))}
    if formats & set(context.options.llm_formats):
        return True
    annotations = as_dict(subject.metadata.get("annotations"))
    if any(k.endswith("model-type") and _GENERATIVE.search(str(v)) for k, v in annotations.items()):
        return True
    container = kserve_container(subject.body)
    server = detect_server(container) if container else None
    return bool(server and server.llm)


@rule(id="RTC301", summary="LLM runtimes have a startupProbe")
def startup_probe(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """The serving container of an LLM runtime has a `startupProbe`.

    Loading a large model takes minutes. Without a startup probe the
    readiness and liveness probes run from the start, and a liveness probe
    (or a large `initialDelaySeconds` guessed to cover the load) kills a pod
    that is still loading, in a restart loop (KServe issues #3795, #5062).
    A startup probe holds the other probes back until the model answers.

    A runtime counts as an LLM runtime when it supports one of the formats in
    `[lint] llm-formats` (default `transformers`, `vLLM`, `huggingface`), has
    a `…/model-type` annotation saying `generative`, or runs a known LLM
    server (vLLM, MindIE, SGLang, TGI, Xinference, llama.cpp).
    """
    container = kserve_container(subject.body)
    if container is None or not is_llm_runtime(subject, context):
        return
    if not isinstance(container.body.get("startupProbe"), dict):
        yield Finding(
            container.path,
            "LLM runtime container kserve-container has no startupProbe; the model may still be loading "
            "when other probes start",
        )


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@rule(id="RTC302", summary="The startup probe allows enough time to load a model")
def startup_budget(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """A startup probe gives the server at least `[lint] min-startup-seconds`
    (default 600) to start: `initialDelaySeconds + failureThreshold x
    periodSeconds`.

    Kubernetes restarts the container when the budget runs out, so a budget
    shorter than the model's load time is a restart loop that never serves.
    Unset fields count with Kubernetes' defaults (failureThreshold 3,
    periodSeconds 10: 30 seconds). The vendor's examples use 60 x 10 s.
    """
    minimum = context.options.min_startup_seconds
    for container in _probed_containers(subject):
        probe = container.body.get("startupProbe")
        if not isinstance(probe, dict):
            continue
        delay = _int(probe.get("initialDelaySeconds"), 0)
        failures = _int(probe.get("failureThreshold"), _DEFAULT_FAILURES)
        period = _int(probe.get("periodSeconds"), _DEFAULT_PERIOD)
        budget = delay + failures * period
        if budget < minimum:
            yield Finding(
                container.at("startupProbe"),
                f"startupProbe of {container.name} allows {budget}s ({failures} x {period}s"
                f"{f' + {delay}s delay' if delay else ''}) for the server to start; at least {minimum}s is required",
                hint="raise failureThreshold, or lower [lint] min-startup-seconds in rtc.toml for small models",
            )


def _probed_containers(subject: Subject) -> list[Container]:
    container = kserve_container(subject.body)
    return [container] if container else []


def _probe_port(container: Container, probe: dict[str, Any]) -> tuple[str, Any] | None:
    for action in ("httpGet", "tcpSocket", "grpc"):
        port = as_dict(probe.get(action)).get("port")
        if port is not None:
            return action, port
    return None


def _resolve(port: Any, container: Container) -> int | None:
    if isinstance(port, int) and not isinstance(port, bool):
        return port
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        for _, number, name in declared_ports(container):
            if name == port:
                return number
    return None


def _ports(numbers: frozenset[int] | set[int]) -> str:
    return ", ".join(str(n) for n in sorted(numbers))


@rule(id="RTC303", summary="Probes, containerPort and metrics annotations use the ports the server listens on")
def ports_agree(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Everything that talks to the server uses a port it listens on.

    rtc reads the listening port from the server's flags and variables,
    wherever they are written (command, args, env, or inside the startup
    script): `--port`, `--http-port`, `--http_port`, `--rest_port`,
    `--listen-port`, `MLSERVER_HTTP_PORT`, `PORT`; failing those, the default
    of a recognised server (vLLM 8000, Triton 8000, MLServer 8080, Xinference
    9997, MindIE 1025, …). Then:

    - KServe sends traffic to the first `containerPort` of kserve-container,
      or to 8080 when none is declared: the server must listen there;
    - every declared `containerPort` is a port the server listens on;
    - httpGet, tcpSocket and grpc probes use a listening port (named ports
      are resolved), and exec probes that curl a local URL use one too;
    - `prometheus.io/port` and `prometheus.kserve.io/port` annotations
      (metadata or spec) name a listening or metrics port (`--metrics-port`,
      `MLSERVER_METRICS_PORT`, `METRICS_PORT`).

    When rtc cannot tell the listening port, it still checks probes against
    declared containerPorts. ODH's Spyre templates show the failure this
    prevents: the server on 8000, the metrics annotation on 8080.
    """
    container = kserve_container(subject.body)
    if container is None:
        return
    listening = listen_ports(container)
    declared = declared_ports(container)
    metrics = listening.metrics | listening.http
    known = listening.known
    said = f"the server listens on {_ports(listening.http)} ({listening.evidence})"
    if known:
        if declared:
            for path, port, _ in declared:
                if port not in listening.http:
                    yield Finding(path, f"containerPort {port} is declared but {said}")
        elif KSERVE_DEFAULT_PORT not in listening.http:
            yield Finding(
                container.path,
                f"KServe sends traffic to port {KSERVE_DEFAULT_PORT} (no containerPort is declared) but {said}",
                hint="declare the server's port as the container's first containerPort",
            )
    declared_numbers = {port for _, port, _ in declared}
    for probe_name in PROBES:
        probe = container.body.get(probe_name)
        if not isinstance(probe, dict):
            continue
        found = _probe_port(container, probe)
        if found is not None:
            action, raw = found
            resolved = _resolve(raw, container)
            path = container.at(probe_name, action, "port")
            if resolved is None:
                yield Finding(path, f"{probe_name} uses port {raw!r}, which no containerPort is named")
            elif known and resolved not in listening.http:
                yield Finding(path, f"{probe_name} checks port {resolved} but {said}")
            elif not known and declared_numbers and resolved not in declared_numbers:
                declared_list = _ports(declared_numbers)
                yield Finding(
                    path,
                    f"{probe_name} checks port {resolved}, which is not a declared containerPort ({declared_list})",
                )
        for index, word in enumerate(as_list(as_dict(probe.get("exec")).get("command"))):
            if not isinstance(word, str):
                continue
            for match in _LOCAL_URL.finditer(word):
                url_port = int(match.group(1)) if match.group(1) else 80
                if known and url_port not in listening.http:
                    yield Finding(
                        container.at(probe_name, "exec", "command", index),
                        f"{probe_name} requests {match.group(0)} but {said}",
                    )
    for where, values in (
        (("metadata", "annotations"), as_dict(subject.metadata.get("annotations"))),
        (("spec", "annotations"), as_dict(subject.spec.get("annotations"))),
    ):
        for key in ("prometheus.io/port", "prometheus.kserve.io/port"):
            value = values.get(key)
            if value is None:
                continue
            metrics_port = _resolve(value, container)
            if metrics_port is None:
                yield Finding((*where, key), f"{key} is {value!r}, not a port number")
            elif known and metrics_port not in metrics:
                yield Finding(
                    (*where, key),
                    f"{key} is {metrics_port} but {said}"
                    + (f" and serves metrics on {_ports(listening.metrics)}" if listening.metrics else ""),
                )
