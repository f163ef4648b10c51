"""What a target's previous render lets the next render of it skip, object by object.

An edit to one runtime changes the five objects of it that a cluster offers and
none of the other 75, yet the whole cluster renders again: its overlay imports
the runtime. Evaluation has to run in full (Jsonnet has no partial
re-evaluation), but what follows it is done per object: the YAML of an object
is a function of the object alone, and most lint rules look at one object and
nothing else. So a render keeps, beside its files, a key per object and what
those rules found, and the next render of the same target (`BuildCache.previous`:
same compiler, rtc.toml, engine and entry file; other sources) takes the
previous bytes and findings of every object whose key is the same.

Keys are BLAKE2b digests of the object's data as `marshal` (version 2, which
writes no back-references, so equal data gives equal bytes whatever object
sharing the engine produced) writes it: unlike `==`, marshal tells `1`, `1.0`
and `true` apart, which the emitter writes differently. Data marshal cannot
write gets no key, and is never reused.

A rule's findings are reused only when the rule did not look at the rest of the
cluster while it ran (`LintContext.glance`): the selection rules compare
a runtime with the cluster's other runtimes, so they run again for every object.
"""

from __future__ import annotations

import hashlib
import marshal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compiler.model import RenderedObject
    from compiler.rules.registry import Finding, Subject

_MARSHAL_VERSION = 2  # the last version without references (see above)


def digest_of(value: Any) -> bytes | None:
    """A digest of plain data (dicts, lists, tuples, strings, numbers, booleans, None), or None."""
    try:
        data = marshal.dumps(value, _MARSHAL_VERSION)
    except ValueError:  # a type marshal cannot write
        return None
    return hashlib.blake2b(data, digest_size=16).digest()


def object_key(obj: RenderedObject) -> bytes | None:
    """Everything the emitted file and the object's lint findings are made from."""
    layers = obj.layers
    return digest_of(
        (
            obj.out_path,
            obj.body,
            obj.cluster,
            obj.runtime,
            obj.hardware,
            (layers.runtime, layers.hardware, layers.platform, layers.overlay),
            obj.requirements,
            obj.suppressions,
            obj.resource_key,
            obj.origin,
        )
    )


@dataclass
class SubjectFindings:
    """What the rules that looked only at one subject found in it (rules absent from `findings` found nothing)."""

    key: bytes
    # The rules whose findings are here: they ran and did not look at other objects.
    alone: frozenset[str]
    findings: dict[str, list[Finding]] = field(default_factory=dict)


@dataclass
class ReuseMemo:
    """What a render leaves for the next render of its target (stored in its cache entry)."""

    # out/ path -> the key of the object written there.
    object_keys: dict[str, bytes] = field(default_factory=dict)
    # out/ path -> what per-object rules found in it.
    lint: dict[str, SubjectFindings] = field(default_factory=dict)


@dataclass
class PreviousRender:
    """The target's last stored render, as far as the next render may reuse it."""

    files: dict[str, bytes]
    memo: ReuseMemo


class Reuse:
    """One render's reuse of the previous one: answers what can be taken over
    and records this render's keys and findings for the next."""

    def __init__(self, previous: PreviousRender | None) -> None:
        self.previous = previous
        self.memo = ReuseMemo()
        self.reused_files = 0
        self.reused_subjects = 0
        # One set object per distinct set of rules: pickled once, not once per object.
        self._alone_sets: dict[frozenset[str], frozenset[str]] = {}

    def file_for(self, obj: RenderedObject) -> bytes | None:
        """The previous bytes of `obj`'s file if it is the same object; records its key."""
        key = object_key(obj)
        if key is None:
            return None
        self.memo.object_keys[obj.out_path] = key
        previous = self.previous
        if previous is None or previous.memo.object_keys.get(obj.out_path) != key:
            return None
        data = previous.files.get(obj.out_path)
        if data is not None:
            self.reused_files += 1
        return data

    def object_key(self, out_path: str) -> bytes | None:
        """The key `file_for` recorded for the object written to `out_path`."""
        return self.memo.object_keys.get(out_path)

    def findings_for(self, subject: Subject) -> SubjectFindings | None:
        """What the per-object rules found in the same subject last time, or None."""
        key = subject.reuse_key
        if key is None or self.previous is None:
            return None
        found = self.previous.memo.lint.get(subject.file)
        if found is None or found.key != key:
            return None
        self.reused_subjects += 1
        return found

    def keep_findings(self, subject: Subject, alone: set[str], findings: dict[str, list[Finding]]) -> None:
        if subject.reuse_key is not None:
            shared = self._alone_sets.setdefault(frozenset(alone), frozenset(alone))
            self.memo.lint[subject.file] = SubjectFindings(subject.reuse_key, shared, findings)
