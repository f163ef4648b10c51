"""Reading runtimes and InferenceServices: containers, env, images, scripts, ports."""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from compiler.yamlpos import JsonPath

KSERVE_CONTAINER = "kserve-container"
TRANSFORMER_CONTAINER = "transformer-container"
WORKER_CONTAINER = "worker-container"
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
SHELLS = frozenset({"bash", "sh", "dash", "ash", "ksh", "zsh"})


@dataclass(frozen=True)
class Container:
    path: JsonPath
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.body.get("name", ""))

    def at(self, *parts: str | int) -> JsonPath:
        return (*self.path, *parts)


T = TypeVar("T")
Obj = TypeVar("Obj")

# What is derived from one manifest or container (its containers, scripts, ports), by
# identity, while a lint run is in progress: about thirty rules ask the same questions
# of every object, and a cluster's objects are many. None outside a run.
_memo: dict[tuple[str, int], tuple[object, object]] | None = None


@contextlib.contextmanager
def derived_once() -> Iterator[None]:
    """Within: each helper below computes once per object. Rules never change
    the manifests they read, so the answer cannot go stale during the run; it is
    dropped when the run ends (a caller may change its objects between runs)."""
    global _memo
    outer = _memo
    if outer is None:
        _memo = {}
    try:
        yield
    finally:
        _memo = outer


def _once(name: str, obj: Obj, compute: Callable[[Obj], T]) -> T:
    memo = _memo
    if memo is None:
        return compute(obj)
    key = (name, id(obj))
    found = memo.get(key)
    # The object is kept with its answer, so its id cannot be reused meanwhile.
    if found is None or found[0] is not obj:
        found = memo[key] = (obj, compute(obj))
    return found[1]  # type: ignore[return-value]


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def runtime_containers(body: dict[str, Any]) -> tuple[Container, ...]:
    """Every container of a (Cluster)ServingRuntime: spec.containers and workerSpec.containers."""
    return _once("runtime-containers", body, _runtime_containers)


def _runtime_containers(body: dict[str, Any]) -> tuple[Container, ...]:
    spec = as_dict(body.get("spec"))
    found = [
        Container(("spec", "containers", i), c)
        for i, c in enumerate(as_list(spec.get("containers")))
        if isinstance(c, dict)
    ]
    worker = as_dict(spec.get("workerSpec"))
    found.extend(
        Container(("spec", "workerSpec", "containers", i), c)
        for i, c in enumerate(as_list(worker.get("containers")))
        if isinstance(c, dict)
    )
    return tuple(found)


def substituted_containers(body: dict[str, Any]) -> list[Container]:
    """The containers KServe renders placeholders in and runs: kserve-container
    and transformer-container of spec.containers (not workerSpec)."""
    return [
        c
        for c in runtime_containers(body)
        if c.path[1] == "containers" and c.name in (KSERVE_CONTAINER, TRANSFORMER_CONTAINER)
    ]


def kserve_container(body: dict[str, Any]) -> Container | None:
    for container in runtime_containers(body):
        if container.path[1] == "containers" and container.name == KSERVE_CONTAINER:
            return container
    return None


def service_containers(body: dict[str, Any]) -> tuple[Container, ...]:
    """The container-like parts of an InferenceService: predictor.model and every listed container."""
    return _once("service-containers", body, _service_containers)


def _service_containers(body: dict[str, Any]) -> tuple[Container, ...]:
    spec = as_dict(body.get("spec"))
    found: list[Container] = []
    for component in ("predictor", "transformer", "explainer"):
        part = as_dict(spec.get(component))
        model = part.get("model")
        if isinstance(model, dict):
            found.append(Container(("spec", component, "model"), model))
        found.extend(
            Container(("spec", component, "containers", i), c)
            for i, c in enumerate(as_list(part.get("containers")))
            if isinstance(c, dict)
        )
    return tuple(found)


def containers_of(body: dict[str, Any]) -> tuple[Container, ...]:
    if body.get("kind") == "InferenceService":
        return service_containers(body)
    return runtime_containers(body)


def env_values(container: Container) -> dict[str, str]:
    """name -> literal value of the container's env (valueFrom entries map to None-less absence)."""
    return _once("env-values", container, _env_values)


def _env_values(container: Container) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in as_list(container.body.get("env")):
        if isinstance(item, dict) and isinstance(item.get("name"), str) and "value" in item:
            values[item["name"]] = "" if item["value"] is None else str(item["value"])
    return values


def command_line(container: Container) -> list[tuple[JsonPath, str]]:
    """command then args, each string with its path."""
    return _once("command-line", container, _command_line)


def _command_line(container: Container) -> list[tuple[JsonPath, str]]:
    items: list[tuple[JsonPath, str]] = []
    for key in ("command", "args"):
        for index, value in enumerate(as_list(container.body.get(key))):
            if isinstance(value, str):
                items.append((container.at(key, index), value))
    return items


@dataclass(frozen=True)
class Script:
    """A shell script held in a manifest string."""

    path: JsonPath
    text: str
    shell: str


def shell_of(executable: str) -> str | None:
    name = os.path.basename(executable)
    return name if name in SHELLS else None


def _scripts_in_argv(argv: list[tuple[JsonPath, str]]) -> Iterator[Script]:
    if not argv:
        return
    words = [value for _, value in argv]
    start = 0
    shell = shell_of(words[0])
    if shell is None and os.path.basename(words[0]) == "env" and len(words) > 1:
        shell = shell_of(words[1])
        start = 1
    if shell is None:
        return
    for index in range(start + 1, len(words) - 1):
        flag = words[index]
        if not flag.startswith("-") or flag.startswith("--"):
            break
        if "c" in flag[1:]:
            path, text = argv[index + 1]
            yield Script(path, text, "bash" if shell in ("bash", "zsh", "ksh") else "sh")
            return


def scripts(container: Container) -> tuple[Script, ...]:
    """Shell scripts of a container: `<shell> -c <script>` in command+args, in
    exec probes, and env values that start with a shebang (scripts written to
    a file at startup, like the vendor's MindIE example)."""
    return _once("scripts", container, lambda c: tuple(_scripts(c)))


def _scripts(container: Container) -> Iterator[Script]:
    yield from _scripts_in_argv(command_line(container))
    for probe in PROBES:
        exec_action = as_dict(as_dict(container.body.get(probe)).get("exec"))
        argv = [
            (container.at(probe, "exec", "command", i), v)
            for i, v in enumerate(as_list(exec_action.get("command")))
            if isinstance(v, str)
        ]
        yield from _scripts_in_argv(argv)
    for index, item in enumerate(as_list(container.body.get("env"))):
        value = as_dict(item).get("value")
        if isinstance(value, str) and value.startswith("#!"):
            first = value.split("\n", 1)[0][2:].strip().split()
            interpreter = first[-1] if first else "sh"
            shell = shell_of(interpreter) or "sh"
            yield Script(container.at("env", index, "value"), value, "bash" if shell == "bash" else "sh")


# ----------------------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageRef:
    host: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """host/repository, the reference without tag and digest."""
        return f"{self.host}/{self.repository}"


def parse_image(reference: str) -> ImageRef:
    """Split an image reference the way the Docker reference grammar does: the
    first path component is a registry host only if it has a "." or ":" or is
    "localhost"; otherwise the host is docker.io (and one-part names are under
    library/)."""
    name, _, digest = reference.partition("@")
    parts = name.split("/")
    first = parts[0]
    has_host = len(parts) > 1 and ("." in first or ":" in first or first == "localhost")
    host = first if has_host else "docker.io"
    path = parts[1:] if has_host else parts
    last, colon, tag = path[-1].partition(":")
    repo_parts = [*path[:-1], last]
    if not has_host and len(repo_parts) == 1:
        repo_parts = ["library", *repo_parts]
    return ImageRef(host=host, repository="/".join(repo_parts), tag=tag if colon else None, digest=digest or None)


# ----------------------------------------------------------------------------- model servers


@dataclass(frozen=True)
class Server:
    """A model server rtc recognises, from the image or the command line."""

    name: str
    image: re.Pattern[str]
    command: re.Pattern[str]
    # The HTTP port it listens on when no flag or variable says otherwise.
    default_port: int | None
    llm: bool = False
    # Runs several processes that exchange tensors through /dev/shm (NCCL, HCCL, torch).
    multiprocess: bool = False
    # Its separate metrics port by default, if it has one.
    metrics_port: int | None = None
    # A word every match of `command` contains: looked for first, because a plain
    # substring search is far faster than the regex on a long startup script.
    keyword: str = ""

    def runs(self, command_text: str) -> bool:
        return self.keyword in command_text and self.command.search(command_text) is not None


SERVERS = (
    Server(
        "vLLM", re.compile(r"vllm"), re.compile(r"vllm\.entrypoints|\bvllm\s+serve\b"), 8000, True, True, keyword="vllm"
    ),
    Server(
        "MindIE",
        re.compile(r"mindie"),
        re.compile(r"mindieservice_daemon"),
        1025,
        True,
        True,
        1027,
        keyword="mindieservice_daemon",
    ),
    Server("SGLang", re.compile(r"sglang"), re.compile(r"sglang\.launch_server"), 30000, True, True, keyword="sglang"),
    Server(
        "Text Generation Inference",
        re.compile(r"text-generation-inference"),
        re.compile(r"text-generation-launcher"),
        80,
        True,
        True,
        keyword="text-generation-launcher",
    ),
    Server(
        "Xinference",
        re.compile(r"xinference"),
        re.compile(r"\bxinference-local\b"),
        9997,
        True,
        keyword="xinference-local",
    ),
    Server("llama.cpp", re.compile(r"llama\.cpp"), re.compile(r"\bllama-server\b"), 8080, True, keyword="llama-server"),
    Server(
        "Triton",
        re.compile(r"tritonserver"),
        re.compile(r"\btritonserver\b"),
        8000,
        metrics_port=8002,
        keyword="tritonserver",
    ),
    Server(
        "MLServer",
        re.compile(r"mlserver"),
        re.compile(r"\bmlserver\s+start\b"),
        8080,
        metrics_port=8082,
        keyword="mlserver",
    ),
)


def container_text(container: Container) -> str:
    """command, args and env values joined: where flags and port variables live."""
    return _once("container-text", container, _container_text)


def _container_text(container: Container) -> str:
    parts = [value for _, value in command_line(container)]
    parts.extend(env_values(container).values())
    return "\n".join(parts)


def detect_server(container: Container) -> Server | None:
    """The model server a container runs: its command first, then its image."""
    return _server_of(container, container_text(container))


def _server_of(container: Container, text: str) -> Server | None:
    server = _server_by_command(text)
    image = container.body.get("image")
    if server is None and isinstance(image, str):
        server = _server_by_image(parse_image(image).repository)
    return server


# Memoized here and below: a cluster's objects repeat the same command lines and
# scripts (one runtime on several hardware profiles), and several rules ask.
@functools.lru_cache(maxsize=4096)
def _server_by_command(text: str) -> Server | None:
    return next((server for server in SERVERS if server.runs(text)), None)


@functools.lru_cache(maxsize=4096)
def _server_by_image(repository: str) -> Server | None:
    return next((server for server in SERVERS if server.image.search(repository)), None)


# `--` first, then the look-behind (no word character or `-` before the `--`): a
# pattern that starts with a literal is searched for that literal, several times faster.
_PORT_FLAG = re.compile(
    r"--(?<![\w-]--)(?:port|http-port|http_port|rest_port|rest-port|listen-port)(?:=|\s+)[\"']?(\d{1,5})\b"
)
_METRICS_FLAG = re.compile(r"--(?<![\w-]--)(?:metrics-port|metrics_port)(?:=|\s+)[\"']?(\d{1,5})\b")
_PORT_VARIABLES = ("MLSERVER_HTTP_PORT", "PORT", "HTTP_PORT")
_METRICS_VARIABLES = ("MLSERVER_METRICS_PORT", "METRICS_PORT")


def _assignment_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w$])(?:export\s+)?(?:" + "|".join(names) + r")=[\"']?(\d{1,5})\b")


_PORT_ASSIGNMENT = _assignment_pattern(_PORT_VARIABLES)
_METRICS_ASSIGNMENT = _assignment_pattern(_METRICS_VARIABLES)


@dataclass(frozen=True)
class _TextPorts:
    """Ports a command line or script names: flags, then variable assignments."""

    flags: frozenset[int]
    assigned: frozenset[int]
    metrics: frozenset[int]


@functools.lru_cache(maxsize=4096)
def _text_ports(text: str) -> _TextPorts:
    def numbers(pattern: re.Pattern[str], literal: str) -> frozenset[int]:
        # Every flag has `--`, every variable ends in PORT: most texts are settled by `in`.
        if literal not in text:
            return frozenset()
        return frozenset(int(m.group(1)) for m in pattern.finditer(text))

    return _TextPorts(
        flags=numbers(_PORT_FLAG, "--"),
        assigned=numbers(_PORT_ASSIGNMENT, "PORT="),
        metrics=numbers(_METRICS_FLAG, "--") | numbers(_METRICS_ASSIGNMENT, "PORT="),
    )


@dataclass(frozen=True)
class ListenPorts:
    """Ports a container's server listens on, and how rtc knows."""

    http: frozenset[int]
    metrics: frozenset[int]
    evidence: str

    @property
    def known(self) -> bool:
        return bool(self.http)


def listen_ports(container: Container) -> ListenPorts:
    """From flags (`--port`, `--http-port`, `--rest_port`, …) and variables
    (`MLSERVER_HTTP_PORT`, `PORT`) in command, args, env and script text; else
    the recognised server's default port; else unknown."""
    return _once("listen-ports", container, _listen_ports)


def _listen_ports(container: Container) -> ListenPorts:
    text = container_text(container)
    env = env_values(container)
    found = _text_ports(text)
    http = set(found.flags)
    evidence = "its command line" if http else ""
    for name in _PORT_VARIABLES:
        if name in env and env[name].isdigit():
            http.add(int(env[name]))
            evidence = evidence or f"env {name}"
    if not http and found.assigned:
        http.update(found.assigned)
        evidence = "its startup script"
    metrics = set(found.metrics)
    metrics.update(int(env[n]) for n in _METRICS_VARIABLES if n in env and env[n].isdigit())
    server = _server_of(container, text)
    if not http and server is not None and server.default_port is not None:
        http.add(server.default_port)
        evidence = f"{server.name}'s default"
    if not metrics and server is not None and server.metrics_port is not None:
        metrics.add(server.metrics_port)
    return ListenPorts(frozenset(http), frozenset(metrics), evidence)


def declared_ports(container: Container) -> list[tuple[JsonPath, int, str | None]]:
    """containerPort entries: (path, port, name)."""
    found = []
    for index, item in enumerate(as_list(container.body.get("ports"))):
        port = as_dict(item).get("containerPort")
        if isinstance(port, int):
            name = as_dict(item).get("name")
            found.append((container.at("ports", index, "containerPort"), port, name if isinstance(name, str) else None))
    return found
