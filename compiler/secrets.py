"""Credential detection: values that must come from a Secret, not from Git.

Two signals, either is enough:
- the variable's name says it holds a credential (`HF_TOKEN`, `DB_PASSWORD`,
  `OPENAI_API_KEY`) and its value is a literal, not empty and not a reference;
- the value itself has the shape of a known token (Hugging Face `hf_…`,
  GitHub `ghp_…`, AWS `AKIA…`, OpenAI `sk-…`, Slack `xox?-…`, a JWT, a PEM
  private key) or a URL with a password in it.

Used by the lint rule on container environments and arguments; kept apart so
any stage that handles values from Git can ask the same question.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

# Name segments (split on "_", "-", ".") that mark a credential on their own.
_SECRET_WORDS = frozenset({"PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS"})
# Two-segment names: *_API_KEY, *_ACCESS_KEY, ...
_SECRET_PAIRS = frozenset(
    {("API", "KEY"), ("ACCESS", "KEY"), ("SECRET", "KEY"), ("PRIVATE", "KEY"), ("AUTH", "KEY"), ("CLIENT", "SECRET")}
)
# Values that are not a credential even under a credential's name.
_REFERENCE = re.compile(r"^\$\([A-Za-z_][A-Za-z0-9_]*\)$|^\$\{[A-Za-z_][A-Za-z0-9_]*\}$|^\{\{.*\}\}$", re.DOTALL)
_PLACEHOLDER_WORDS = frozenset({"", "none", "null", "changeme-from-secret", "<redacted>", "redacted", "xxx", "***"})


@dataclass(frozen=True)
class TokenShape:
    name: str
    pattern: re.Pattern[str]
    # Every match contains one of these: a substring test first spares the regex
    # on almost every value (a start-up script is thousands of characters).
    needles: tuple[str, ...]


TOKEN_SHAPES = (
    TokenShape("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), ("hf_",)),
    TokenShape(
        "a GitHub token",
        re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    TokenShape("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), ("AKIA", "ASIA")),
    TokenShape("an OpenAI-style API key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}"), ("sk-",)),
    TokenShape("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), ("xox",)),
    TokenShape(
        "a JSON Web Token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        ("eyJ",),
    ),
    TokenShape("a private key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"), ("PRIVATE KEY-----",)),
    TokenShape("a URL with a password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s:/@${}]+@[^\s/]+"), ("://",)),
)


@dataclass(frozen=True)
class CredentialHit:
    """What was found and where: `start` is the offset in the value."""

    what: str
    start: int


@functools.lru_cache(maxsize=8192)
def name_suggests_credential(name: str) -> bool:
    parts = [p for p in re.split(r"[_.\-]", name.upper()) if p]
    if any(p in _SECRET_WORDS for p in parts):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(parts))


def is_literal_value(value: str) -> bool:
    """A value written in Git, as opposed to empty, a placeholder or a reference."""
    stripped = value.strip()
    return stripped.lower() not in _PLACEHOLDER_WORDS and not _REFERENCE.match(stripped)


# Memoized: a cluster's objects repeat the same strings (a start-up script once per hardware profile).
@functools.lru_cache(maxsize=8192)
def find_token(value: str) -> CredentialHit | None:
    """The first substring of `value` shaped like a known kind of credential."""
    best: CredentialHit | None = None
    for shape in TOKEN_SHAPES:
        if not any(needle in value for needle in shape.needles):
            continue
        match = shape.pattern.search(value)
        if match and (best is None or match.start() < best.start):
            best = CredentialHit(shape.name, match.start())
    return best


def env_credential(name: str, value: str) -> CredentialHit | None:
    """Why the environment variable `name=value` holds a credential, or None."""
    token = find_token(value)
    if token:
        return token
    if name_suggests_credential(name) and is_literal_value(value):
        return CredentialHit(f"a literal value for {name}, whose name marks a credential", 0)
    return None


# Command-line flags that take a credential: --api-key X, --token=X, --password X.
# (Every such flag ends in one of _FLAG_WORDS, looked for first in the case-folded text.)
_FLAG_WORDS = ("key", "token", "passw", "secret")
_SECRET_FLAG = re.compile(
    r"(?<![\w-])--?(?P<flag>(?:[a-z0-9]+[-_])*(?:api[-_]key|token|password|passwd|secret))(?:=|\s+)(?P<value>[^\s\"'\\]+)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=8192)
def text_credential(text: str) -> CredentialHit | None:
    """A credential in free text (a command line, a script): a token shape, or
    a literal after a credential flag (`--api-key abc`, not `--api-key "$KEY"`)."""
    token = find_token(text)
    flagged: CredentialHit | None = None
    lowered = text.casefold()
    matches = _SECRET_FLAG.finditer(text) if any(word in lowered for word in _FLAG_WORDS) else ()
    for match in matches:
        if match.group("value").startswith("$") or not is_literal_value(match.group("value")):
            continue
        flagged = CredentialHit(f"a literal value for the {match.group('flag')} flag", match.start())
        break
    candidates = [hit for hit in (token, flagged) if hit is not None]
    return min(candidates, key=lambda hit: hit.start) if candidates else None
