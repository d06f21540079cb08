"""How tests call the API: every app under test runs with one bootstrap admin key (set for
the whole test session in tests/conftest.py), and `api_client` sends it."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

ADMIN_KEY = "test-admin-key-of-the-lodestar-suite"
BEARER = {"Authorization": f"Bearer {ADMIN_KEY}"}


def api_client(app: Litestar) -> TestClient[Litestar]:
    """A test client that sends the bootstrap admin key with every request."""
    client: TestClient[Litestar] = TestClient(app=app)
    client.headers.update(BEARER)
    return client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
