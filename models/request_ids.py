"""Signed request ids: every list response's `request_id` is 16 random hex digits and 16
of their HMAC under a secret kept in Postgres (made by a migration, shared by every API
process), so that a search click or an event naming a request id can be checked to name a
request this deployment answered, without storing the ids served (a GET writes nothing)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import text

from models.db import Database

_NAME = "request_id"


class RequestIds:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def load(cls, database: Database) -> RequestIds:
        with database.engine.connect() as conn:
            secret = conn.execute(text("SELECT value FROM service_secrets WHERE name = :n"),
                                  {"n": _NAME}).scalar_one()
        return cls(bytes(secret))

    def new(self) -> str:
        nonce = secrets.token_hex(8)
        return nonce + self._tag(nonce)

    def issued(self, request_id: str) -> bool:
        """Whether a request id (32 lower-case hex digits) was made by `new`."""
        nonce, tag = request_id[:16], request_id[16:]
        return len(request_id) == 32 and hmac.compare_digest(tag, self._tag(nonce))

    def _tag(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()[:16]
