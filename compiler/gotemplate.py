"""Go template actions in strings: find `{{ … }}`, parse them, say what they read.

KServe renders a runtime container as a Go template (text parsed by
`html/template`, data: the InferenceService's ObjectMeta). This is a parser
for the part of Go's template language that matters there: delimiters with
trim markers, comments, pipelines of commands, field chains (`.Name`,
`.Annotations.key`), variables, string/raw-string/char/number literals,
parenthesised pipelines and the control keywords (`if`, `with`, `range`,
`else`, `end`, …). It reports the first syntax error of a string the way Go
would refuse it, and the metadata each action reads (`index .Annotations
\\`key\\``, `.Labels.key`, `.Name`).

It does not execute anything: semantics (which fields exist) are the lint
rule's business.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

LEFT, RIGHT = "{{", "}}"
BUILTINS = frozenset(
    {
        "and",
        "call",
        "html",
        "index",
        "slice",
        "js",
        "len",
        "not",
        "or",
        "print",
        "printf",
        "println",
        "urlquery",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ne",
    }
)
_KEYWORDS_OPEN = frozenset({"if", "with", "range", "define", "block"})
_IDENT_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_CHARS = _IDENT_START | set("0123456789")


@dataclass(frozen=True)
class Reference:
    """Something an action reads from the template's data (the ObjectMeta).

    `field` is the first field after the dot (`Name`, `Annotations`, `State`);
    `rest` the fields after it (`("modelClass",)` for `.Labels.modelClass`);
    `key` the key read with `index .Annotations "key"` (or the first of `rest`).
    `scoped` is True when the dot was rebound by `with`/`range`, so the
    reference is not necessarily to the ObjectMeta.
    """

    field: str
    rest: tuple[str, ...] = ()
    key: str | None = None
    scoped: bool = False


@dataclass(frozen=True)
class Action:
    """One `{{ … }}` in a string: offsets into the string, its text, what it reads."""

    start: int
    end: int
    text: str
    references: tuple[Reference, ...] = ()
    quoted_strings: bool = False


@dataclass(frozen=True)
class TemplateError:
    """Why Go would refuse the template; `offset` is where in the string."""

    message: str
    offset: int


@dataclass(frozen=True)
class ParsedTemplate:
    actions: tuple[Action, ...] = ()
    error: TemplateError | None = None


def json_encoded(text: str) -> str:
    """The string as Go's encoding/json writes it inside a JSON document
    (without the surrounding quotes): what KServe hands to the template parser.
    Go escapes <, > and & as \\u003c, \\u003e, \\u0026 and keeps other
    non-ASCII characters as UTF-8."""
    encoded = json.dumps(text, ensure_ascii=False)[1:-1]
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# Memoized: lint rules parse the same strings, and a cluster repeats them per hardware profile.
@functools.lru_cache(maxsize=4096)
def parse(text: str) -> ParsedTemplate:
    """Every action of `text`, or the first error Go's parser would report."""
    actions: list[Action] = []
    depth: list[tuple[str, int]] = []
    position = 0
    while True:
        start = text.find(LEFT, position)
        if start < 0:
            break
        inner_start = start + len(LEFT)
        trim_left = text.startswith("- ", inner_start) or text.startswith("-\t", inner_start)
        if trim_left:
            inner_start += 2
        if text.startswith("/*", inner_start):
            close = text.find("*/", inner_start + 2)
            if close < 0:
                return ParsedTemplate(tuple(actions), TemplateError("unclosed comment", start))
            after = close + 2
            if text.startswith(" -}}", after):
                after += 4
            elif text.startswith(RIGHT, after):
                after += 2
            else:
                return ParsedTemplate(tuple(actions), TemplateError("comment ends before closing delimiter", start))
            position = after
            continue
        scanner = _Scanner(text, inner_start, start)
        try:
            tokens, end = scanner.tokens_until_right()
            action = _Action(tokens, depth, start)
            action.parse()
        except _Fail as failure:
            return ParsedTemplate(tuple(actions), TemplateError(failure.message, failure.offset))
        actions.append(
            Action(
                start=start,
                end=end,
                text=text[start:end],
                references=tuple(action.references),
                quoted_strings=any(t.kind == "string" for t in tokens),
            )
        )
        position = end
    if depth:
        keyword, offset = depth[-1]
        unclosed = TemplateError(f"unexpected EOF: {{{{{keyword}}}}} has no {{{{end}}}}", offset)
        return ParsedTemplate(tuple(actions), unclosed)
    return ParsedTemplate(tuple(actions))


class _Fail(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class _Token:
    kind: str  # field, ident, var, string, raw, char, number, pipe, lparen, rparen, assign, comma, dot
    value: str
    offset: int


class _Scanner:
    def __init__(self, text: str, position: int, action_start: int) -> None:
        self.text = text
        self.position = position
        self.action_start = action_start

    def tokens_until_right(self) -> tuple[list[_Token], int]:
        text = self.text
        tokens: list[_Token] = []
        while True:
            i = self.position
            if i >= len(text):
                raise _Fail("unclosed action", self.action_start)
            if text.startswith(" -}}", i) or text.startswith(RIGHT, i):
                end = i + (4 if text[i] == " " else 2)
                return tokens, end
            ch = text[i]
            if ch in " \t\r\n":
                self.position += 1
            elif ch == "|":
                tokens.append(_Token("pipe", ch, i))
                self.position += 1
            elif ch == "(":
                tokens.append(_Token("lparen", ch, i))
                self.position += 1
            elif ch == ")":
                tokens.append(_Token("rparen", ch, i))
                self.position += 1
            elif ch == ",":
                tokens.append(_Token("comma", ch, i))
                self.position += 1
            elif text.startswith(":=", i):
                tokens.append(_Token("assign", ":=", i))
                self.position += 2
            elif ch == "=":
                tokens.append(_Token("assign", "=", i))
                self.position += 1
            elif ch == '"':
                tokens.append(self._quoted('"', "string"))
            elif ch == "`":
                end = text.find("`", i + 1)
                if end < 0:
                    raise _Fail("unterminated raw quoted string", i)
                tokens.append(_Token("raw", text[i + 1 : end], i))
                self.position = end + 1
            elif ch == "'":
                tokens.append(self._quoted("'", "char"))
            elif ch == ".":
                tokens.append(self._field(i))
            elif ch == "$":
                j = i + 1
                while j < len(text) and text[j] in _IDENT_CHARS:
                    j += 1
                tokens.append(_Token("var", text[i:j], i))
                self.position = j
                self._field_chain(tokens)
            elif ch in "+-" or ch.isdigit():
                j = i + 1
                while j < len(text) and (text[j].isalnum() or text[j] in "._+-"):
                    j += 1
                literal = text[i:j]
                if not _is_number(literal):
                    raise _Fail(f"bad number syntax: {literal!r}", i)
                tokens.append(_Token("number", literal, i))
                self.position = j
            elif ch in _IDENT_START:
                j = i + 1
                while j < len(text) and text[j] in _IDENT_CHARS:
                    j += 1
                tokens.append(_Token("ident", text[i:j], i))
                self.position = j
                self._field_chain(tokens)
            elif ch == "\\":
                raise _Fail('unexpected "\\" in operand', i)
            else:
                raise _Fail(f"unrecognized character in action: {ch!r}", i)

    def _field(self, i: int) -> _Token:
        text = self.text
        j = i + 1
        if j >= len(text) or text[j] not in _IDENT_START:
            self.position = j
            return _Token("dot", ".", i)
        while j < len(text) and (text[j] in _IDENT_CHARS or (text[j] == "." and j + 1 < len(text))):
            if text[j] == "." and (j + 1 >= len(text) or text[j + 1] not in _IDENT_START):
                break
            j += 1
        self.position = j
        return _Token("field", text[i:j], i)

    def _field_chain(self, tokens: list[_Token]) -> None:
        """`$x.A.B` and `(pipeline).A` are a variable or ident followed by fields."""
        text = self.text
        at = self.position
        if at + 1 < len(text) and text[at] == "." and text[at + 1] in _IDENT_START:
            tokens.append(self._field(at))

    def _quoted(self, quote: str, kind: str) -> _Token:
        text = self.text
        i = self.position
        j = i + 1
        value = []
        while j < len(text):
            ch = text[j]
            if ch == "\\" and j + 1 < len(text):
                value.append(text[j + 1])
                j += 2
                continue
            if ch == "\n":
                break
            if ch == quote:
                self.position = j + 1
                return _Token(kind, "".join(value), i)
            value.append(ch)
            j += 1
        raise _Fail("unterminated quoted string" if kind == "string" else "unterminated character constant", i)


def _is_number(literal: str) -> bool:
    body = literal.lstrip("+-").replace("_", "")
    if not body:
        return False
    try:
        if body.lower().startswith(("0x", "0o", "0b")):
            int(body, 0)
        else:
            float(body)
    except ValueError:
        return False
    return True


class _Action:
    """Parses the tokens of one action: control keywords and pipelines."""

    def __init__(self, tokens: list[_Token], depth: list[tuple[str, int]], start: int) -> None:
        self.tokens = tokens
        self.depth = depth
        self.start = start
        self.references: list[Reference] = []
        self.index = 0

    @property
    def scoped(self) -> bool:
        return any(keyword in ("with", "range") for keyword, _ in self.depth)

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> None:
        first = self.peek()
        if first is None:
            raise _Fail("missing value for command", self.start)
        if first.kind == "ident" and first.value in ("end", "else", "break", "continue"):
            self.take()
            self._control(first)
            return
        if first.kind == "ident" and first.value in _KEYWORDS_OPEN:
            self.take()
            if first.value in ("define", "block"):
                name = self.peek()
                if name is None or name.kind not in ("string", "raw"):
                    raise _Fail(f"{first.value} clause needs a template name", first.offset)
                self.take()
                if first.value == "define":
                    self._expect_end(first.value)
                    self.depth.append((first.value, first.offset))
                    return
            # The clause's own pipeline still reads the outer dot.
            self._pipeline(declarations=True)
            self._expect_end(first.value)
            self.depth.append((first.value, first.offset))
            return
        if first.kind == "ident" and first.value == "template":
            self.take()
            name = self.peek()
            if name is None or name.kind not in ("string", "raw"):
                raise _Fail("template clause needs a template name", first.offset)
            self.take()
            if self.peek() is not None:
                self._pipeline(declarations=False)
            self._expect_end("template")
            return
        self._pipeline(declarations=True)
        self._expect_end("action")

    def _control(self, keyword: _Token) -> None:
        if keyword.value == "end":
            if not self.depth:
                raise _Fail("unexpected {{end}}", keyword.offset)
            self.depth.pop()
            self._expect_end("end")
        elif keyword.value == "else":
            if not self.depth or self.depth[-1][0] not in ("if", "with", "range"):
                raise _Fail("unexpected {{else}}", keyword.offset)
            following = self.peek()
            if following is not None and following.kind == "ident" and following.value in ("if", "with"):
                self.take()
                self._pipeline(declarations=True)
            self._expect_end("else")
        else:
            if not any(k == "range" for k, _ in self.depth):
                raise _Fail(f"{{{{{keyword.value}}}}} outside {{{{range}}}}", keyword.offset)
            self._expect_end(keyword.value)

    def _expect_end(self, what: str) -> None:
        extra = self.peek()
        if extra is not None:
            raise _Fail(f"unexpected {extra.value!r} in {what}", extra.offset)

    def _pipeline(self, *, declarations: bool, until: str | None = None) -> None:
        tokens = self.tokens
        if declarations and self.peek() is not None and self.peek().kind == "var":  # type: ignore[union-attr]
            save = self.index
            self.take()
            following = self.peek()
            if following is not None and following.kind == "comma":
                self.take()
                if self.peek() is None or self.peek().kind != "var":  # type: ignore[union-attr]
                    raise _Fail("too many declarations", following.offset)
                self.take()
                following = self.peek()
            if following is not None and following.kind == "assign":
                self.take()
            else:
                self.index = save
        commands = 0
        while True:
            self._command(until)
            commands += 1
            token = self.peek()
            if token is None or (until is not None and token.kind == until):
                return
            if token.kind != "pipe":
                raise _Fail(f"unexpected {token.value!r} in operand", token.offset)
            self.take()
            if self.index >= len(tokens):
                raise _Fail("missing command after |", token.offset)

    def _command(self, until: str | None) -> None:
        operands: list[_Token] = []
        while True:
            token = self.peek()
            if token is None or token.kind == "pipe" or (until is not None and token.kind == until):
                break
            if token.kind == "lparen":
                self.take()
                self._pipeline(declarations=False, until="rparen")
                closing = self.peek()
                if closing is None or closing.kind != "rparen":
                    raise _Fail("unclosed left paren", token.offset)
                self.take()
                operands.append(token)
                if self.peek() is not None and self.peek().kind == "field":  # type: ignore[union-attr]
                    operands.append(self.take())
                continue
            if token.kind in ("rparen", "comma", "assign"):
                raise _Fail(f"unexpected {token.value!r} in operand", token.offset)
            operands.append(self.take())
        if not operands:
            token = self.peek()
            raise _Fail("missing value for command", token.offset if token else self.start)
        head = operands[0]
        if head.kind == "ident":
            if head.value in ("nil",) and len(operands) == 1:
                raise _Fail("nil is not a command", head.offset)
            if head.value not in BUILTINS and head.value not in ("true", "false", "nil"):
                raise _Fail(f'function "{head.value}" not defined', head.offset)
        for position, operand in enumerate(operands):
            if operand.kind == "field":
                self._field_reference(operand, operands, position)
            elif operand.kind == "ident" and position > 0 and operand.value not in (*BUILTINS, "true", "false", "nil"):
                raise _Fail(f'function "{operand.value}" not defined', operand.offset)
        if head.kind == "ident" and head.value == "index" and len(operands) >= 3:
            target, key = operands[1], operands[2]
            if target.kind == "field" and key.kind in ("string", "raw"):
                parts = target.value[1:].split(".")
                if len(parts) == 1 and parts[0] in ("Annotations", "Labels"):
                    self.references.append(Reference(parts[0], (), key.value, self.scoped))

    def _field_reference(self, token: _Token, operands: list[_Token], position: int) -> None:
        previous = operands[position - 1] if position > 0 else None
        if (
            previous is not None
            and previous.kind in ("var", "lparen", "ident")
            and previous.offset + len(previous.value) == token.offset
        ):
            # $x.Field or (pipeline).Field: not a read from the dot.
            if previous.kind == "var" and previous.value == "$":
                self._record(token, scoped=False)
            return
        self._record(token, scoped=self.scoped)

    def _record(self, token: _Token, *, scoped: bool) -> None:
        parts = token.value[1:].split(".")
        key = parts[1] if len(parts) > 1 and parts[0] in ("Annotations", "Labels") else None
        self.references.append(Reference(parts[0], tuple(parts[1:]), key, scoped))
