"""The rule registry: `@rule(id=..., summary=...)` and what a rule sees and returns.

A rule is a small pure function `check(subject, context) -> Iterable[Finding]`.
Its docstring is its documentation (docs/rules.md is generated from it). It
names no severity and knows nothing about suppressions: the engine
(compiler/lint.py) attaches both.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from compiler.diagnostics import SourceSpan
from compiler.selection import Runtime, runtime_from
from compiler.yamlpos import JsonPath, Positions

if TYPE_CHECKING:
    from compiler.rules.profiles import PlatformProfile
    from compiler.shellcheck import ScriptReport

T = TypeVar("T")

RUNTIME_KINDS = ("ClusterServingRuntime", "ServingRuntime")
SERVICE_KINDS = ("InferenceService",)
RULE_ID = re.compile(r"^RTC\d{3}$")


@dataclass
class Subject:
    """One manifest being linted, with what rtc knows about where it came from."""

    body: dict[str, Any]
    # The file messages point into: out/<cluster>/<file>.yaml or the user's file.
    file: str
    positions: Positions
    # Layer files that produced it (runtime, hardware, platform, overlay); empty for user files.
    sources: tuple[str, ...] = ()
    # The catalog runtime (folder name under catalog/) and hardware profile, when known.
    runtime: str | None = None
    hardware: str | None = None
    # rtc.runtime's lintExceptions (rule id -> reason) and requirements, as written.
    suppressions: dict[str, Any] = field(default_factory=dict)
    requirements: dict[str, Any] = field(default_factory=dict)
    # Where catalog fields are written: "requirements", "lintExceptions", "lintExceptions.RTC602".
    catalog_spans: dict[str, SourceSpan] = field(default_factory=dict)
    # The hardware profile's device resource (None: CPU). Meaningful only if `hardware` is set.
    resource_key: str | None = None
    # Script files (repository path -> text) a startup script may have been read from.
    script_files: dict[str, str] = field(default_factory=dict)
    # The canonical YAML rtc emitted for it (rendered objects only): a string of the
    # object holds a text exactly when this does, since the emitter never folds or escapes it.
    emitted: str | None = None
    # A digest of everything above and of the cluster's settings (compiler/reuse.py), for
    # rendered objects: the same key, the same findings from the rules that look at it alone.
    reuse_key: bytes | None = None

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.body.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str | None:
        namespace = self.metadata.get("namespace")
        return str(namespace) if namespace is not None else None

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Finding:
    """One problem: where (a JSON path in the subject) and what, in one sentence.

    `text_offset` (0-based line, 1-based column) points inside a string value
    such as a script; `span` replaces the computed location altogether (a
    shellcheck finding mapped back to catalog/<runtime>/startup.sh).
    """

    path: JsonPath
    message: str
    hint: str | None = None
    text_offset: tuple[int, int] | None = None
    span: SourceSpan | None = None


@dataclass(frozen=True)
class LintOptions:
    """Rule settings from rtc.toml's [lint] table (defaults in compiler/lint.py)."""

    min_startup_seconds: int = 600
    moving_tags: tuple[str, ...] = ("latest",)
    llm_formats: tuple[str, ...] = ("transformers", "vLLM", "huggingface")
    shellcheck_exclude: tuple[str, ...] = ()


class Glance:
    """Whether a rule has read the rest of the cluster since the engine last cleared `seen`."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = False


class _WatchedList(list["Subject"]):
    """The cluster's runtimes, noting in `glance` that a rule read them."""

    def __init__(self, items: list[Subject], glance: Glance) -> None:
        super().__init__(items)
        self.glance = glance

    def __iter__(self) -> Iterator[Subject]:
        self.glance.seen = True
        return super().__iter__()

    def __reversed__(self) -> Iterator[Subject]:
        self.glance.seen = True
        return super().__reversed__()

    def __getitem__(self, index: Any) -> Any:
        self.glance.seen = True
        return super().__getitem__(index)

    def __len__(self) -> int:
        self.glance.seen = True
        return super().__len__()

    def __contains__(self, value: object) -> bool:
        self.glance.seen = True
        return super().__contains__(value)

    def index(self, *args: Any) -> int:
        self.glance.seen = True
        return super().index(*args)

    def count(self, value: Any) -> int:
        self.glance.seen = True
        return super().count(value)

    def copy(self) -> list[Subject]:
        self.glance.seen = True
        return super().copy()


class _WatchedDict(dict[str, object]):
    """What rules share across a lint run, noting in `glance` that a rule used it."""

    def __init__(self, items: dict[str, object], glance: Glance) -> None:
        super().__init__(items)
        self.glance = glance

    def __getitem__(self, key: str) -> object:
        self.glance.seen = True
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: object) -> None:
        self.glance.seen = True
        super().__setitem__(key, value)

    def __contains__(self, key: object) -> bool:
        self.glance.seen = True
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self.glance.seen = True
        return super().__iter__()

    def __len__(self) -> int:
        self.glance.seen = True
        return super().__len__()

    def get(self, key: str, default: Any = None) -> Any:
        self.glance.seen = True
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.glance.seen = True
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self.glance.seen = True
        return super().pop(key, *default)

    def keys(self) -> Any:
        self.glance.seen = True
        return super().keys()

    def values(self) -> Any:
        self.glance.seen = True
        return super().values()

    def items(self) -> Any:
        self.glance.seen = True
        return super().items()


@dataclass
class LintContext:
    """What a rule may know besides its subject: the platform and the cluster."""

    profile: PlatformProfile
    options: LintOptions
    cluster: str | None = None
    # Registry hosts or host/path prefixes the cluster may pull from; None: any.
    allowed_registries: tuple[str, ...] | None = None
    # Every runtime the cluster gets (for selection rules and InferenceService checks).
    runtimes: list[Subject] = field(default_factory=list)
    scripts: ScriptReport | None = None
    # What several rules derive from one subject (its KServe model, its placeholder
    # strings, …), once per lint run: the selection rules compare every runtime with
    # every other, which per subject would be quadratic.
    _derived: dict[tuple[str, int], tuple[Subject, object]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Anything rules compute once per lint run from the whole context (indexes over runtimes).
    shared: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    # Set when a rule reads the runtimes or the shared indexes: the engine clears it before
    # each check, so that it knows which findings depend on other objects than the subject
    # (compiler/reuse.py): only the others are reused by the next render.
    glance: Glance = field(default_factory=Glance, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.runtimes = _WatchedList(self.runtimes, self.glance)
        self.shared = _WatchedDict(self.shared, self.glance)

    def runtime_model(self, subject: Subject) -> Runtime:
        return self.derived("runtime-model", subject, _runtime_model)

    def derived(self, name: str, subject: Subject, compute: Callable[[Subject], T]) -> T:
        """`compute(subject)`, computed once per subject and lint run under `name`."""
        key = (name, id(subject))
        found = self._derived.get(key)
        if found is None or found[0] is not subject:
            found = self._derived[key] = (subject, compute(subject))
        return found[1]  # type: ignore[return-value]


def _runtime_model(subject: Subject) -> Runtime:
    return runtime_from(subject.body)


Check = Callable[[Subject, LintContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    doc: str
    kinds: tuple[str, ...]
    family: str
    check: Check


RULES: dict[str, Rule] = {}


def closest_rule(rule_id: str) -> str | None:
    """The registered id a misspelt `rule_id` most likely means: two adjacent
    characters swapped first (RTC620 -> RTC602), else the most similar."""
    for index in range(len(rule_id) - 1):
        swapped = rule_id[:index] + rule_id[index + 1] + rule_id[index] + rule_id[index + 2 :]
        if swapped != rule_id and swapped in RULES:
            return swapped
    close = difflib.get_close_matches(rule_id, sorted(RULES), n=1)
    return close[0] if close else None


def rule(*, id: str, summary: str, kinds: tuple[str, ...] = RUNTIME_KINDS) -> Callable[[Check], Check]:
    """Register `check` as rule `id`; its docstring becomes the rule's documentation."""
    if not RULE_ID.match(id):
        raise ValueError(f"rule id {id!r} is not RTC followed by three digits")

    def register(check: Check) -> Check:
        if id in RULES:
            raise ValueError(f"rule {id} is registered twice ({RULES[id].check.__qualname__}, {check.__qualname__})")
        doc = inspect.getdoc(check)
        if not doc:
            raise ValueError(f"rule {id} ({check.__qualname__}) has no docstring: it is the rule's documentation")
        family = check.__module__.rsplit(".", 1)[-1]
        RULES[id] = Rule(id=id, summary=summary, doc=doc, kinds=kinds, family=family, check=check)
        return check

    return register
