from __future__ import annotations

import pytest

from compiler.secrets import env_credential, name_suggests_credential, text_credential


@pytest.mark.parametrize(
    "name", ["HF_TOKEN", "DB_PASSWORD", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY", "client-secret", "api.key.x"]
)
def test_credential_names(name: str) -> None:
    assert name_suggests_credential(name)


@pytest.mark.parametrize("name", ["TOKENIZERS_PARALLELISM", "MAX_TOKENS", "PWD", "KEY_PATH", "MODEL_NAME", "HOME"])
def test_ordinary_names(name: str) -> None:
    assert not name_suggests_credential(name)


def test_literal_under_a_credential_name() -> None:
    hit = env_credential("HF_TOKEN", "abc123")
    assert hit is not None and "HF_TOKEN" in hit.what


@pytest.mark.parametrize("value", ["", "$(HF_TOKEN_FROM_SECRET)", "${TOKEN}", "{{ index .Annotations `t` }}"])
def test_references_and_empty_values_are_not_literals(value: str) -> None:
    assert env_credential("HF_TOKEN", value) is None


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("hf_" + "a" * 34, "a Hugging Face token"),
        ("ghp_" + "B" * 36, "a GitHub token"),
        ("AKIA" + "ABCDEFGHIJKLMNOP", "an AWS access key id"),
        ("sk-" + "x" * 40, "an OpenAI-style API key"),
        ("-----BEGIN RSA PRIVATE KEY-----", "a private key"),
        ("https://user:s3cret@example.com/repo.git", "a URL with a password"),
    ],
)
def test_token_shapes_under_any_name(value: str, what: str) -> None:
    hit = env_credential("SOMETHING", value)
    assert hit is not None and hit.what == what


def test_flags_in_text() -> None:
    hit = text_credential("vllm serve --api-key abcdef")
    assert hit is not None and hit.what == "a literal value for the api-key flag"
    assert text_credential('vllm serve --api-key "$API_KEY"') is None
    assert text_credential("vllm serve --max-tokens 100 --tokenizer x") is None
