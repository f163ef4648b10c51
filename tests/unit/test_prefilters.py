"""The lint's fast paths find exactly what the plain regexes find.

Lint looks for substrings before running a regex (credential shapes, flags,
server commands) and writes some patterns literal-first. These properties
compare each fast path with the plain regex on texts assembled from the
fragments the patterns care about, so a needle that misses a form the regex
accepts (a Kelvin sign folding to `k`, a `-` before `--port`) fails here.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.rules import k8s
from compiler.secrets import _SECRET_FLAG, TOKEN_SHAPES, CredentialHit, find_token, is_literal_value, text_credential

FRAGMENTS = [
    " ",
    "\n",
    "-",
    "--",
    "=",
    "'",
    '"',
    "x",
    "_",
    "$",
    "8000",
    "12",
    "port",
    "http-port",
    "metrics-port",
    "rest_port",
    "PORT=",
    "HTTP_PORT=",
    "METRICS_PORT=",
    "MLSERVER_HTTP_PORT=",
    "export ",
    "vllm",
    "vllm serve",
    "vllm.entrypoints",
    "mlserver start",
    "tritonserver",
    "llama-server",
    "xinference-local",
    "mindieservice_daemon",
    "sglang.launch_server",
    "text-generation-launcher",
    "--api-key",
    "--token",
    "-password",
    "secret",
    "\u212a",  # KELVIN SIGN: re.IGNORECASE matches it as k
    "\u017f",  # LATIN SMALL LETTER LONG S: matches s
    "API_\u212aEY",
    "\u017fecret",
    "pa\u017f\u017fword",
    "hf_",
    "ghp_",
    "github_pat_",
    "AKIA",
    "sk-",
    "xoxb-",
    "eyJ",
    ".",
    "-----BEGIN PRIVATE KEY-----",
    "https://",
    "user:pw@host",
    "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0",
    "ABCDEFGHIJ234567",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=24).map("".join)


def plain_find_token(value: str) -> CredentialHit | None:
    best = None
    for shape in TOKEN_SHAPES:
        match = shape.pattern.search(value)
        if match and (best is None or match.start() < best.start):
            best = CredentialHit(shape.name, match.start())
    return best


def plain_text_credential(text: str) -> CredentialHit | None:
    flagged = None
    for match in _SECRET_FLAG.finditer(text):
        if match.group("value").startswith("$") or not is_literal_value(match.group("value")):
            continue
        flagged = CredentialHit(f"a literal value for the {match.group('flag')} flag", match.start())
        break
    candidates = [hit for hit in (plain_find_token(text), flagged) if hit is not None]
    return min(candidates, key=lambda hit: hit.start) if candidates else None


@settings(max_examples=400)
@given(texts)
def test_credential_needles_miss_nothing(text: str) -> None:
    assert find_token(text) == plain_find_token(text)
    assert text_credential(text) == plain_text_credential(text)


PLAIN_PORT_FLAG = re.compile(
    r"(?<![\w-])--(?:port|http-port|http_port|rest_port|rest-port|listen-port)(?:=|\s+)[\"']?(\d{1,5})\b"
)
PLAIN_METRICS_FLAG = re.compile(r"(?<![\w-])--(?:metrics-port|metrics_port)(?:=|\s+)[\"']?(\d{1,5})\b")
PLAIN_PORT_ASSIGNMENT = re.compile(r"(?<![\w$])(?:export\s+)?(?:MLSERVER_HTTP_PORT|PORT|HTTP_PORT)=[\"']?(\d{1,5})\b")
PLAIN_METRICS_ASSIGNMENT = re.compile(
    r"(?<![\w$])(?:export\s+)?(?:MLSERVER_METRICS_PORT|METRICS_PORT)=[\"']?(\d{1,5})\b"
)


def numbers(pattern: re.Pattern[str], text: str) -> frozenset[int]:
    return frozenset(int(m.group(1)) for m in pattern.finditer(text))


@settings(max_examples=400)
@given(texts)
def test_port_patterns_find_what_the_plain_patterns_find(text: str) -> None:
    found = k8s._text_ports(text)
    assert found.flags == numbers(PLAIN_PORT_FLAG, text)
    assert found.assigned == numbers(PLAIN_PORT_ASSIGNMENT, text)
    assert found.metrics == numbers(PLAIN_METRICS_FLAG, text) | numbers(PLAIN_METRICS_ASSIGNMENT, text)


@settings(max_examples=400)
@given(texts)
def test_server_keywords_miss_no_command(text: str) -> None:
    plain = next((server for server in k8s.SERVERS if server.command.search(text)), None)
    assert k8s._server_by_command(text) == plain


def test_the_fragments_reach_every_branch() -> None:
    """The properties mean something only if the fragments can produce hits."""
    found = k8s._text_ports("vllm serve --port 8000 --metrics-port=9 PORT=1")
    assert (found.flags, found.assigned, found.metrics) == (frozenset({8000}), frozenset({1}), frozenset({9}))
    commands = [f for f in FRAGMENTS if k8s._server_by_command(f) is not None]
    assert {k8s._server_by_command(c) for c in commands} == set(k8s.SERVERS)
    # Case-folding forms the regex accepts under IGNORECASE.
    assert text_credential("--api-\u212aey abc") is not None
    assert text_credential("--\u017fecret abc") is not None
    assert find_token("https://user:pw@host") is not None
