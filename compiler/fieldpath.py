"""Field paths into Kubernetes objects: `spec.containers[0].image`,
`metadata.labels['cpaas.io/runtime-class']`, `spec.containers[name=kserve-container].env[name=HOME]`.

A label key with dots may also be written bare (`metadata.labels.cpaas.io/runtime-class`):
resolving tries the longest run of dotted parts that is a key. Paths resolve to a
canonical form in which list items that have a `name` are addressed by it, so the
same path finds the same item in every layer even if a layer reorders a list.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_BARE = re.compile(r"[^.\[\]]+")
_BRACKET = re.compile(
    r"\[\s*(?:(?P<index>-?\d+)|'(?P<sq>[^']*)'|\"(?P<dq>[^\"]*)\"|(?P<field>[\w.-]+)=(?P<value>[^\]]*))\s*\]"
)


class PathError(ValueError):
    """The path is malformed, or names nothing in the object."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.suggestions = suggestions


@dataclass(frozen=True)
class Key:
    name: str
    # Written bare (dot-separated), so it may join with the next bare parts.
    bare: bool = False


@dataclass(frozen=True)
class Index:
    index: int


@dataclass(frozen=True)
class Select:
    field: str
    value: str


Step = Key | Index | Select


def parse(text: str) -> list[Step]:
    steps: list[Step] = []
    position = 0
    text = text.strip()
    if text.startswith("$"):
        text = text[1:]
    while position < len(text):
        if text[position] == ".":
            position += 1
            continue
        bracket = _BRACKET.match(text, position)
        if bracket:
            if bracket.group("index") is not None:
                steps.append(Index(int(bracket.group("index"))))
            elif bracket.group("field") is not None:
                steps.append(Select(bracket.group("field"), bracket.group("value").strip("'\"")))
            else:
                steps.append(Key(bracket.group("sq") if bracket.group("sq") is not None else bracket.group("dq")))
            position = bracket.end()
            continue
        bare = _BARE.match(text, position)
        if not bare:
            raise PathError(f"cannot read the path {text!r} at character {position + 1}")
        steps.append(Key(bare.group(0), bare=True))
        position = bare.end()
    if not steps:
        raise PathError("the path is empty")
    return steps


def format_path(steps: list[Step]) -> str:
    parts: list[str] = []
    for step in steps:
        if isinstance(step, Index):
            parts.append(f"[{step.index}]")
        elif isinstance(step, Select):
            parts.append(f"[{step.field}={step.value}]")
        elif re.fullmatch(r"[A-Za-z_][\w-]*", step.name):
            parts.append(f".{step.name}" if parts else step.name)
        else:
            parts.append(f"[{step.name!r}]")
    return "".join(parts)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


# What `lookup` returns where a path names nothing (None is a value).
MISSING: Any = _Missing()


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON data: tells 1 from True and 1 from 1.0 (== does not); MISSING only equals itself."""
    if a is MISSING or b is MISSING:
        return a is b
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def lookup(value: Any, steps: list[Step]) -> Any:
    """The value at a canonical path (from `resolve`), or MISSING."""
    for step in steps:
        if isinstance(step, Key):
            if not isinstance(value, dict) or step.name not in value:
                return MISSING
            value = value[step.name]
        elif isinstance(step, Index):
            if not isinstance(value, list) or not -len(value) <= step.index < len(value):
                return MISSING
            value = value[step.index]
        else:
            if not isinstance(value, list):
                return MISSING
            matches = [v for v in value if isinstance(v, dict) and str(v.get(step.field)) == step.value]
            if len(matches) != 1:
                return MISSING
            value = matches[0]
    return value


def resolve(value: Any, steps: list[Step]) -> list[Step]:
    """The canonical path of `steps` in `value`; PathError (with the closest existing paths) if absent."""
    canonical: list[Step] = []
    remaining = list(steps)
    current = value
    while remaining:
        step = remaining.pop(0)
        if isinstance(step, Key):
            if not isinstance(current, dict):
                _missing(value, canonical, steps, f"{_where(canonical)} is not a mapping")
            name = step.name
            # A bare key with dots (a label key) was split on them: rejoin.
            joined = 0
            while name not in current and step.bare and joined < len(remaining):
                following = remaining[joined]
                if not (isinstance(following, Key) and following.bare):
                    break
                name = f"{name}.{following.name}"
                joined += 1
            if name not in current:
                _missing(value, canonical, steps, f"{_where(canonical)} has no field {step.name!r}")
            del remaining[:joined]
            canonical.append(Key(name))
            current = current[name]
        else:
            if not isinstance(current, list):
                _missing(value, canonical, steps, f"{_where(canonical)} is not a list")
            item = lookup(current, [step])
            if item is MISSING:
                _missing(value, canonical, steps, f"{_where(canonical)} has no item {format_path([step])}")
            canonical.append(_item_step(current, item, step))
            current = item
    return canonical


def _item_step(items: list[Any], item: Any, step: Step) -> Step:
    """Address a list item by its unique name when it has one."""
    named = isinstance(item, dict) and isinstance(item.get("name"), str)
    if named and sum(1 for other in items if isinstance(other, dict) and other.get("name") == item["name"]) == 1:
        return Select("name", item["name"])
    if isinstance(step, Index) and step.index < 0:
        return Index(len(items) + step.index)
    return step if isinstance(step, Index) else Index(items.index(item))


def _where(canonical: list[Step]) -> str:
    return format_path(canonical) if canonical else "the object"


def _missing(value: Any, canonical: list[Step], steps: list[Step], message: str) -> None:
    wanted = format_path(steps)
    every = list(paths(value))
    close = difflib.get_close_matches(wanted, every, n=3, cutoff=0.6)
    if not close:
        prefix = format_path(canonical)
        close = [p for p in every if p.startswith(prefix)][:5] if prefix else []
    raise PathError(message, tuple(close))


def paths(value: Any, prefix: list[Step] | None = None) -> Iterator[str]:
    """Every path in `value`, items addressed by index."""
    prefix = prefix or []
    if isinstance(value, dict):
        for key in sorted(value):
            here = [*prefix, Key(key)]
            yield format_path(here)
            yield from paths(value[key], here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            here = [*prefix, Index(index)]
            yield format_path(here)
            yield from paths(item, here)
