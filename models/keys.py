"""API keys: created, listed, revoked and checked. Only a hash of a key is stored.

A key reads `lsk_<key id>_<secret>`. The key id is public (it names the key in lists, the
audit log and shopper tokens); the secret is 32 random bytes, kept as its SHA-256. A fast
hash is enough for a secret of that strength: nothing can be guessed from it, and a key is
checked on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, text, update

from models.db import Database
from models.tables import ApiKey
from models.tenancy import current_shop

Scope = Literal["public", "server", "admin"]
SCOPES: tuple[Scope, ...] = ("public", "server", "admin")  # each may do all the one before may
PREFIX = "lsk"
MAX_NAME_LENGTH = 200
_TOKEN_CONTEXT = b"lodestar shopper token"
KEY_ID = re.compile(r"[0-9a-f]{12}")


def scope_allows(held: str, needed: str) -> bool:
    """Whether a key of scope `held` may do what `needed` allows (scopes nest)."""
    return SCOPES.index(held) >= SCOPES.index(needed)  # type: ignore[arg-type]


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    shop_id: str
    scope: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreatedKey(KeyInfo):
    key: str  # shown once, never stored


@dataclass(frozen=True)
class StoredKey:
    """What checking a key and a shopper token needs."""

    key_id: str
    shop_id: str
    scope: str
    secret_hash: bytes
    token_secret: bytes


def is_key_id(value: str) -> bool:
    """Whether `value` has the form of a key id (checked before any lookup, so that no
    made-up value reaches a query)."""
    return KEY_ID.fullmatch(value) is not None


def split_key(key: str) -> tuple[str, str] | None:
    """(key id, secret) of a key in Lodestar's form, else None."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not is_key_id(key_id) or not 0 < len(secret) <= 100:
        return None
    return key_id, secret


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def token_secret(secret: str) -> bytes:
    """The secret that signs shopper tokens minted with this key: derived from the key, so
    a shop's backend that holds the key can compute it (see `lodestar keys token`)."""
    return hmac.new(secret.encode(), _TOKEN_CONTEXT, hashlib.sha256).digest()


def token_secret_of_key(key: str) -> bytes | None:
    parts = split_key(key)
    return token_secret(parts[1]) if parts else None


def create(database: Database, scope: Scope, name: str = "",
           shop_id: str | None = None) -> CreatedKey:
    """A new key of `shop_id` (default: the current shop); the returned `key` is the only
    time it can be seen."""
    shop_id = shop_id or current_shop()
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    if len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError(f"name: one line of at most {MAX_NAME_LENGTH} characters")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(key_id=key_id, shop_id=shop_id, scope=scope, name=name,
                 secret_hash=secret_hash(secret), token_secret=token_secret(secret))
    with database.session() as session:
        # A key of a new shop makes the shop.
        session.execute(text("INSERT INTO shops (shop_id) VALUES (:s) ON CONFLICT DO NOTHING"),
                        {"s": shop_id})
        session.add(row)
        session.flush()
        info = _info(row)
    return CreatedKey(**vars(info), key=f"{PREFIX}_{key_id}_{secret}")


def list_keys(database: Database, shop_id: str | None = None,
              include_revoked: bool = False) -> list[KeyInfo]:
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
    if shop_id is not None:
        query = query.where(ApiKey.shop_id == shop_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    with database.session() as session:
        return [_info(row) for row in session.scalars(query)]


def revoke(database: Database, key_id: str, shop_id: str | None = None) -> KeyInfo | None:
    """Revoke a key (kept, marked, for the audit trail); None if there is no such key.
    Revoking a revoked key changes nothing."""
    with database.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None or (shop_id is not None and row.shop_id != shop_id):
            return None
        if row.revoked_at is None:
            session.execute(update(ApiKey).where(ApiKey.key_id == key_id)
                            .values(revoked_at=func.now()))
            session.refresh(row)
        return _info(row)


def find(database: Database, key_id: str) -> StoredKey | None:
    """A live (not revoked) key by id, with its hashes."""
    with database.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None:
            return None
        return StoredKey(row.key_id, row.shop_id, row.scope, row.secret_hash, row.token_secret)


def matches(stored: StoredKey, secret: str) -> bool:
    return hmac.compare_digest(stored.secret_hash, secret_hash(secret))


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(row.key_id, row.shop_id, row.scope, row.name, row.created_at, row.revoked_at)
