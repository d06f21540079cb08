"""The server profile will not start with a missing, short or example admin key; the
embedded profile (a person's own machine) does not ask."""

from __future__ import annotations

import pytest

from api.cli import CliError, check_safe_to_serve
from models.settings import Settings

SERVER = {"database_url": "postgresql+psycopg://db/lodestar"}


@pytest.mark.parametrize("key", [None, "change-me", "CHANGE-ME", "secret", "short-key"])
def test_the_server_profile_refuses_weak_admin_keys(key: str | None) -> None:
    with pytest.raises(CliError):
        check_safe_to_serve(Settings(**SERVER, admin_key=key))


def test_the_server_profile_starts_with_a_random_admin_key() -> None:
    check_safe_to_serve(Settings(**SERVER, admin_key="0f3c9a1e7b5d2c4a8e6f0b1d3c5a7e9f"))
    check_safe_to_serve(Settings(qdrant_url="http://qdrant:6333",
                                 admin_key="0f3c9a1e7b5d2c4a8e6f0b1d3c5a7e9f"))


def test_the_embedded_profile_needs_no_admin_key() -> None:
    check_safe_to_serve(Settings(admin_key=None))


def test_docs_are_open_embedded_and_closed_in_the_server_profile() -> None:
    assert Settings().docs_open()
    assert not Settings(**SERVER).docs_open()
    assert Settings(**SERVER, openapi_docs=True).docs_open()
