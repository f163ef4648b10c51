"""The three faces of `rtc diff`: text for a terminal, markdown for a pull-request
comment, JSON for other tools. Pure functions of a Comparison."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from compiler.diff import Comparison, FieldChange, ObjectDiff
from compiler.emit import to_yaml
from compiler.fieldpath import MISSING

# The first line of the markdown, so a CI job can find and update its own comment.
COMMENT_MARKER = "<!-- rtc diff -->"
_SYMBOL = {"added": "+", "removed": "-", "changed": "~", "reordered": "~"}
_INLINE_LIMIT = 100


def _summary(comparison: Comparison) -> str:
    assert comparison.diff is not None and comparison.base is not None
    diff = comparison.diff
    clusters = len(diff.clusters)
    counts = f"{diff.count('changed')} changed, {diff.count('added')} added, {diff.count('removed')} removed"
    base = f"{comparison.base.ref} ({comparison.base.short})"
    if not comparison.base_has_catalog:
        base += ", which has no catalog here"
    return f"{counts} in {clusters} cluster folder{'s' * (clusters != 1)}; base {base}"


def _inline(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _lines(value: Any) -> list[str]:
    """A value as display lines: a string's lines, or YAML for a structure too long for one line."""
    if isinstance(value, str):
        return value.splitlines() or [""]
    text = _inline(value)
    if len(text) <= _INLINE_LIMIT:
        return [text]
    return to_yaml(value if isinstance(value, dict) else {"items": value}).splitlines()


def _is_block(value: Any) -> bool:
    return value is not MISSING and len(_lines(value)) > 1


def field_lines(change: FieldChange) -> list[str]:
    """One field change as diff-style lines: `-` old, `+` new (a unified diff for long text)."""
    if change.order:
        return [f"- order: {', '.join(change.old)}", f"+ order: {', '.join(change.new)}"]
    if change.old is not MISSING and change.new is not MISSING and (_is_block(change.old) or _is_block(change.new)):
        hunks = difflib.unified_diff(_lines(change.old), _lines(change.new), lineterm="", n=2)
        return [line if line[:1] in "+-@" else " " + line[1:] for line in list(hunks)[2:]]
    lines: list[str] = []
    if change.old is not MISSING:
        lines.extend(f"- {line}" for line in _lines(change.old))
    if change.new is not MISSING:
        lines.extend(f"+ {line}" for line in _lines(change.new))
    return lines


def _one_line(change: FieldChange) -> str | None:
    """`path: old -> new` when both sides fit on a line."""
    if change.order or _is_block(change.old) or _is_block(change.new):
        return None
    if change.old is MISSING:
        return f"+ {change.path}: {_inline(change.new)}"
    if change.new is MISSING:
        return f"- {change.path}: {_inline(change.old)}"
    return f"~ {change.path}: {_inline(change.old)} -> {_inline(change.new)}"


def text(comparison: Comparison) -> str:
    assert comparison.diff is not None
    out: list[str] = []
    cluster = None
    for obj in comparison.diff.objects:
        if obj.cluster != cluster:
            cluster = obj.cluster
            out.append(cluster)
        out.append(f"  {_SYMBOL[obj.action]} {obj.label}  {obj.file}")
        for change in obj.fields:
            single = _one_line(change)
            if single:
                out.append(f"      {single}")
                continue
            out.append(f"      {_SYMBOL[change.action]} {change.path}:")
            out.extend(f"          {line}" for line in field_lines(change))
    if comparison.diff.empty:
        out.append("no differences in the rendered output")
    out.append("")
    out.append(f"rtc diff: {_summary(comparison)}")
    return "\n".join(out) + "\n"


def _fence(body: str, info: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _change_cell(obj: ObjectDiff) -> str:
    if obj.action != "changed":
        return obj.action
    paths = [f"`{_cell(change.path)}`" for change in obj.fields[:3]]
    more = len(obj.fields) - 3
    return "changed " + ", ".join(paths) + (f" and {more} more" if more > 0 else "")


def _details_body(obj: ObjectDiff) -> str:
    if obj.action == "added" and obj.new is not None:
        return _fence(to_yaml(obj.new).rstrip("\n"), "yaml")
    if obj.action == "removed" and obj.old is not None:
        return _fence(to_yaml(obj.old).rstrip("\n"), "yaml")
    lines: list[str] = []
    for change in obj.fields:
        lines.append(f"# {change.path}")
        lines.extend(field_lines(change))
    return _fence("\n".join(lines), "diff")


def markdown(comparison: Comparison) -> str:
    assert comparison.diff is not None
    diff = comparison.diff
    out = [COMMENT_MARKER, "### rtc diff", "", _summary(comparison).replace("; base ", ". Base: ") + ".", ""]
    if diff.empty:
        out.append("No differences in the rendered output.")
        return "\n".join(out) + "\n"
    out.extend(["| cluster | object | change |", "| --- | --- | --- |"])
    for obj in diff.objects:
        out.append(f"| {_cell(obj.cluster)} | `{_cell(obj.label)}` | {_change_cell(obj)} |")
    out.append("")
    for obj in diff.objects:
        out.append(f"<details><summary>{obj.cluster}: {_SYMBOL[obj.action]} {obj.label}</summary>")
        out.append("")
        out.append(f"`{obj.file}`")
        out.append("")
        out.append(_details_body(obj))
        out.append("")
        out.append("</details>")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _json_field(change: FieldChange) -> dict[str, Any]:
    """path and change, plus old and new where the field has them."""
    entry: dict[str, Any] = {"path": change.path, "change": change.action}
    if change.old is not MISSING:
        entry["old"] = change.old
    if change.new is not MISSING:
        entry["new"] = change.new
    return entry


def as_json(comparison: Comparison) -> str:
    assert comparison.diff is not None and comparison.base is not None
    diff = comparison.diff
    payload = {
        "base": {"ref": comparison.base.ref, "commit": comparison.base.commit, "catalog": comparison.base_has_catalog},
        "summary": {action: diff.count(action) for action in ("changed", "added", "removed")},
        "objects": [
            {
                "folder": obj.cluster,
                "kind": obj.kind,
                "namespace": obj.namespace or None,
                "name": obj.name,
                "file": obj.file,
                "change": obj.action,
                "fields": [_json_field(change) for change in obj.fields],
            }
            for obj in diff.objects
        ],
    }
    return json.dumps(payload, indent=2) + "\n"
