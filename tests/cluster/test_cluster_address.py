"""Which Ray clusters Restyle joins: any on this computer; one elsewhere only with a token (no Ray needed)."""

from __future__ import annotations

import pytest

from desktop.cluster.connect import connect
from desktop.core.cluster_address import parse_address, refusal, token_source
from desktop.core.errors import ErrorKind, RestyleError


@pytest.fixture()
def no_token(monkeypatch, tmp_path):
    """No token anywhere Ray looks: not in the environment, not in ~/.ray."""
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert token_source() is None


def test_an_unauthenticated_cluster_elsewhere_is_refused_with_what_to_do(no_token):
    with pytest.raises(RestyleError) as error:
        connect("203.0.113.7:6379")  # refused before Ray is even imported: nothing is sent to that machine
    assert error.value.kind is ErrorKind.BAD_INPUT
    message = error.value.message
    assert "203.0.113.7:6379" in message and "without a token" in message
    assert "ray get-auth-token --generate" in message and "RAY_AUTH_MODE=token" in message


def test_a_cluster_on_this_computer_needs_no_token(no_token):
    for text in ("auto", "127.0.0.1:6379", "localhost:6379", "ray://127.0.0.1:10001"):
        assert parse_address(text).is_local and refusal(parse_address(text)) is None


def test_a_token_lets_a_remote_cluster_in_but_auth_turned_off_is_refused(no_token, monkeypatch, tmp_path):
    address = parse_address("gpu-box.invalid:6379")
    assert not address.is_local
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("a" * 64)  # where `ray get-auth-token --generate` puts it
    assert token_source() == str(tmp_path / ".ray" / "auth_token") and refusal(address) is None
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    assert "RAY_AUTH_MODE=disabled" in refusal(address)


def test_addresses_that_are_not_addresses_get_a_sentence():
    for text in ("", "http://head:8265", "head:port", "ray://:10001"):
        with pytest.raises(RestyleError) as error:
            parse_address(text)
        assert "is not a Ray cluster address" in error.value.message
