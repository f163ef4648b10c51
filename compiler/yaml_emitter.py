"""Canonical YAML text: exactly what PyYAML's C emitter writes for rtc, several times faster.

The canonical format is defined by the reference below (PyYAML's CSafeDumper
with rtc's string style: literal blocks for multi-line strings, no folding,
unicode kept). `dump` writes the same characters without building PyYAML's
node graph: it emits block mappings and sequences itself, writes the common
scalars directly (plain words, numbers, literal blocks of printable ASCII),
and asks the reference for anything else, one scalar at a time and memoized,
in the same indentation context. A property test holds the two to identical
output on arbitrary data.
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

# Long enough that the emitter never folds a line: folding is legal but noisy in diffs.
_NO_FOLD = 1 << 30
# A simple (implicit) mapping key is at most this long; longer keys get the "? key" form.
_SIMPLE_KEY_MAX = 127
_MEMO_LIMIT = 50_000


# Plain scalars that some YAML reader takes for a number, boolean or null.
# PyYAML quotes what YAML 1.1 reads that way; kustomize and Argo CD read YAML
# 1.2 (where "1e3" and "0o17" are numbers) and go-yaml v2 (where "y" and "n"
# are booleans), so those are quoted too: a label value must stay a string.
_NOT_A_STRING_ELSEWHERE = re.compile(
    r"""^(?:
        [-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?  # 12, 12.1, .5, 1e3, 1_000
      | [-+]?0[xX][0-9a-fA-F_]+ | [-+]?0[oO][0-7_]+ | [-+]?0[bB][01_]+      # 0x10, 0o17, 0b101
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | y|Y|n|N|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF
      | true|True|TRUE|false|False|FALSE|null|Null|NULL|~
    )$""",
    re.VERBOSE,
)


# Line breaks in YAML 1.1 (PyYAML) but ordinary characters in YAML 1.2 (go-yaml v3:
# kustomize, Argo CD). Outside double quotes the two read different strings, and
# PyYAML writes a block ending in one that it cannot read back; escaped, both agree.
_OTHER_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")


def _represent_str(dumper: yaml.representer.BaseRepresenter, value: str) -> yaml.ScalarNode:
    # The emitter falls back to a quoted style by itself where a literal block
    # cannot hold the string (e.g. trailing spaces on a line).
    if _OTHER_LINE_BREAKS.search(value):
        style: str | None = '"'
    elif "\n" in value:
        style = "|"
    elif _NOT_A_STRING_ELSEWHERE.match(value):
        style = "'"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


@functools.cache
def canonical_dumper() -> type[yaml.CSafeDumper]:
    """PyYAML's C emitter (6x faster than the pure-Python one) with rtc's string style.
    Made on first use: a build whose scalars `dump` writes itself never loads PyYAML
    (a tenth of an incremental build's start-up)."""
    import yaml

    class CanonicalDumper(yaml.CSafeDumper):
        pass

    def represent(dumper: CanonicalDumper, value: str) -> yaml.ScalarNode:
        return _represent_str(dumper, value)

    CanonicalDumper.add_representer(str, represent)
    return CanonicalDumper


def reference_dump(data: Any) -> str:
    """The canonical YAML of `data`, by PyYAML itself (the definition of the format)."""
    import yaml

    text: str = yaml.dump(
        data,
        Dumper=canonical_dumper(),
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=_NO_FOLD,
    )
    return text


# A string PyYAML writes plain, as it is: starts with a letter, '_' or '/', no
# indicator (": ", " #", a trailing ':'), no leading/trailing/double space, and
# not one of the words YAML 1.1 or go-yaml v2 reads as a boolean or null.
_PLAIN = re.compile(r"[A-Za-z_/](?:[A-Za-z0-9_./-]|:(?=[A-Za-z0-9_./-])| (?=[A-Za-z0-9_./-]))*")
_NOT_STRINGS = frozenset(
    [
        "y",
        "Y",
        "n",
        "N",
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "null",
        "Null",
        "NULL",
    ]
)
# What keeps a multi-line string out of the fast literal block: anything but
# printable ASCII and newlines, a space before a newline or at the end, a
# leading space or newline (the block would need an indentation indicator).
_NOT_LITERAL = re.compile(r"[^\n\x20-\x7e]| \n| \Z|\A[ \n]")


def _is_plain(value: str) -> bool:
    return _PLAIN.fullmatch(value) is not None and value not in _NOT_STRINGS


# What YAML 1.1 (PyYAML's resolver, yaml/resolver.py) reads as something other
# than a string when it is written plain: such a string is quoted.
_RESOLVES_ELSEWHERE = re.compile(
    r"""^(?:
        yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF      # bool
      | [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?                                # float
      | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+  # int
      | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
      | <<                                                                               # merge
      | ~|null|Null|NULL|                                                                # null
      | [0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?                                      # timestamp
      | [0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]
        (?:\.[0-9]*)?(?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?
      | =                                                                                # value
    )$""",
    re.VERBOSE,
)
_ONE_LINE_ASCII = re.compile(r"[\x20-\x7e]*")
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


def _plain_allowed(value: str) -> bool:
    """Whether libyaml's emitter may write a one-line printable-ASCII `value` as a plain
    scalar in a block mapping or sequence (yaml_emitter_analyze_scalar: no leading or
    trailing space, no "---"/"..." start, no indicator where it would mean one)."""
    if value[0] == " " or value[-1] == " " or value.startswith(("---", "...")):
        return False
    first = value[0]
    followed_by_space = len(value) == 1 or value[1] == " "
    if first in _FIRST_INDICATORS or (first in "?:-" and followed_by_space):
        return False
    last = len(value) - 1
    for index in range(1, len(value)):
        ch = value[index]
        if ch == ":" and (index == last or value[index + 1] == " "):
            return False
        if ch == "#" and value[index - 1] == " ":
            return False
    return True


def _one_line_tail(value: str) -> str | None:
    """What libyaml writes after "key:" for a one-line printable-ASCII string: plain
    where allowed and read back as a string, else single-quoted (always allowed for
    such a string; a quote is doubled). None for any other string."""
    if _ONE_LINE_ASCII.fullmatch(value) is None:
        return None
    if (
        value
        and _NOT_A_STRING_ELSEWHERE.match(value) is None
        and _RESOLVES_ELSEWHERE.match(value) is None
        and _plain_allowed(value)
    ):
        return " " + value + "\n"
    return " '" + value.replace("'", "''") + "'\n"


# The float text PyYAML writes plain (SafeRepresenter.represent_float, then read back as a float).
_PLAIN_FLOAT = re.compile(r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?")


def _float_tail(value: float) -> str | None:
    if not math.isfinite(value):
        return None  # .nan, .inf, -.inf: rare, left to the reference
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return " " + text + "\n" if _PLAIN_FLOAT.fullmatch(text) else None


class _Fallback(Exception):
    """The document needs the reference emitter as a whole (an open-ended last scalar)."""


_pads: list[str] = [" " * n for n in range(64)]
# Rendered tails (" text\n", or a block) of string values, per column of their key or dash.
_tails: dict[int, dict[str, str]] = {}
_tail_count = 0
_plain_keys: dict[str, bool] = {}


def _pad(column: int) -> str:
    if column < len(_pads):
        return _pads[column]
    return " " * column


def _nest(data: Any, column: int) -> tuple[Any, str]:
    """`data` as the innermost value of mappings nested so that its key sits at
    `column`, and the text the reference writes before that key."""
    depth = column // 2
    prefix = "".join(_pad(2 * level) + "k:\n" for level in range(depth))
    for _ in range(depth):
        data = {"k": data}
    return data, prefix


def _reference_scalar(value: Any, column: int) -> str:
    """The reference's text for a scalar whose key or dash is at `column`
    (everything after "key: " or "- ", through its final line break)."""
    nested, prefix = _nest({"k": value}, column)
    text = reference_dump(nested)
    head = prefix + _pad(column) + "k: "
    if column % 2 or not text.startswith(head) or text.endswith("\n...\n"):
        raise _Fallback
    return text[len(head) :]


def _literal(value: str, column: int) -> str:
    """A literal block (printable ASCII, no trailing spaces), as the reference writes it."""
    if not value.endswith("\n"):
        chomp, body = "-", value
    elif len(value) == 1 or value[-2] == "\n":
        raise _Fallback  # "|+" leaves the document open-ended: rare, let the reference write it
    else:
        chomp, body = "", value[:-1]
    indent = _pad(column + 2)
    return "|" + chomp + "\n" + "".join(indent + line + "\n" if line else "\n" for line in body.split("\n"))


def _string_tail(value: str, column: int) -> str:
    """What follows "key:" or "-" for a string value (memoized: catalogs repeat themselves)."""
    global _tail_count
    tails = _tails.get(column)
    if tails is None:
        tails = _tails[column] = {}
    found = tails.get(value)
    if found is not None:
        return found
    if "\n" in value:
        literal = _NOT_LITERAL.search(value) is None
        found = " " + (_literal(value, column) if literal else _reference_scalar(value, column))
    else:
        found = _one_line_tail(value) or " " + _reference_scalar(value, column)
    if _tail_count >= _MEMO_LIMIT:
        _tails.clear()
        _tail_count = 0
        tails = _tails[column] = {}
    tails[value] = found
    _tail_count += 1
    return found


def _plain_key(key: Any) -> bool:
    if type(key) is not str:
        return False
    found = _plain_keys.get(key)
    if found is None:
        if len(_plain_keys) >= _MEMO_LIMIT:
            _plain_keys.clear()
        found = _plain_keys[key] = len(key) <= _SIMPLE_KEY_MAX and _is_plain(key)
    return found


def _keys(mapping: dict[Any, Any], sort: bool, first: tuple[str, ...]) -> list[Any]:
    if first:
        head = [k for k in first if k in mapping]
        rest = [k for k in mapping if k not in first]
        return head + (sorted(rest) if sort else rest)
    return sorted(mapping) if sort else list(mapping)


class _Writer:
    def __init__(self, sort_keys: bool, child_first: dict[str, tuple[str, ...]]) -> None:
        self.parts: list[str] = []
        self.sort_keys = sort_keys
        self.child_first = child_first

    def mapping(self, mapping: dict[Any, Any], column: int, first: str, order: tuple[str, ...] = ()) -> None:
        """A non-empty block mapping with keys at `column`; `first` replaces the
        indentation of the first line (it holds "- " inside a sequence)."""
        lead = first
        pad = _pad(column)
        for key in _keys(mapping, self.sort_keys, order):
            value = mapping[key]
            if _plain_key(key):
                self.value(lead + key + ":", value, column)
            else:
                self.parts.append(lead + self._reference_pair(key, value, column))
            lead = pad

    def sequence(self, items: list[Any], column: int, first: str) -> None:
        """A non-empty block sequence with dashes at `column`."""
        lead = first
        pad = _pad(column)
        for item in items:
            kind = type(item)
            if kind is dict and item:
                self.mapping(item, column + 2, lead + "- ")
            elif kind is list and item:
                self.sequence(item, column + 2, lead + "- ")
            else:
                self.value(lead + "-", item, column)
            lead = pad

    def value(self, head: str, value: Any, column: int, order: tuple[str, ...] = ()) -> None:
        """`head` ("key:" or "-") and the value that follows it; the key or dash is at `column`."""
        kind = type(value)
        if kind is str:
            self.parts.append(head + _string_tail(value, column))
        elif kind is dict:
            if value:
                self.parts.append(head + "\n")
                self.mapping(value, column + 2, _pad(column + 2), order)
            else:
                self.parts.append(head + " {}\n")
        elif kind is list:
            if value:
                self.parts.append(head + "\n")
                # A sequence under a mapping key is not indented (PyYAML's style).
                self.sequence(value, column, _pad(column))
            else:
                self.parts.append(head + " []\n")
        elif kind is bool:
            self.parts.append(head + (" true\n" if value else " false\n"))
        elif kind is int:
            self.parts.append(head + " " + str(value) + "\n")
        elif value is None:
            self.parts.append(head + " null\n")
        else:  # floats and anything unusual: not memoized (0.0 == -0.0)
            tail = _float_tail(value) if kind is float else None
            self.parts.append(head + (tail or " " + _reference_scalar(value, column)))

    def top(self, mapping: dict[Any, Any], order: tuple[str, ...]) -> None:
        for key in _keys(mapping, self.sort_keys, order):
            value = mapping[key]
            if _plain_key(key):
                self.value(key + ":", value, 0, self.child_first.get(key, ()))
            else:
                self.parts.append(self._reference_pair(key, self._sorted(value), 0))

    def _sorted(self, value: Any) -> Any:
        """`value` with its keys in emission order, for the reference emitter."""
        if type(value) is dict:
            return {k: self._sorted(value[k]) for k in _keys(value, self.sort_keys, ())}
        if type(value) is list:
            return [self._sorted(v) for v in value]
        return value

    def _reference_pair(self, key: Any, value: Any, column: int) -> str:
        """A mapping entry whose key is not a short plain string (it may need "? key")."""
        nested, prefix = _nest({key: self._sorted(value)}, column)
        text = reference_dump(nested)
        head = prefix + _pad(column)
        if column % 2 or not text.startswith(head) or text.endswith("\n...\n"):
            raise _Fallback
        return text[len(head) :]


def dump(
    data: Any,
    *,
    sort_keys: bool = False,
    first_keys: tuple[str, ...] = (),
    child_first_keys: dict[str, tuple[str, ...]] | None = None,
) -> str:
    """The canonical YAML of `data`: identical to `reference_dump` of the same
    data with its keys in this order: at the top `first_keys` first, under a
    top-level key K `child_first_keys[K]` first, the other keys sorted
    (`sort_keys`) or as they come."""
    if type(data) is not dict or not data:
        return reference_dump(data)
    writer = _Writer(sort_keys, child_first_keys or {})
    try:
        writer.top(data, first_keys)
    except _Fallback:
        return reference_dump(
            ordered(data, sort_keys=sort_keys, first_keys=first_keys, child_first_keys=child_first_keys)
        )
    return "".join(writer.parts)


def ordered(
    data: Any,
    *,
    sort_keys: bool = False,
    first_keys: tuple[str, ...] = (),
    child_first_keys: dict[str, tuple[str, ...]] | None = None,
) -> Any:
    """A copy of `data` with its keys in the order `dump` writes them."""
    writer = _Writer(sort_keys, child_first_keys or {})
    if type(data) is not dict:
        return writer._sorted(data)
    children = child_first_keys or {}
    result: dict[Any, Any] = {}
    for key in _keys(data, sort_keys, first_keys):
        value = data[key]
        if type(value) is dict and key in children:
            value = {k: writer._sorted(value[k]) for k in _keys(value, sort_keys, children[key])}
        else:
            value = writer._sorted(value)
        result[key] = value
    return result
