"""Who is calling and what they may do.

Every `/v1` route needs a key (`Authorization: Bearer <key>`); `/health`, `/ready` and the
demo page do not. Keys have nested scopes: `public` (safe in a browser: catalog, similar
items, bought-together, trending, search; a shopper's own lists and events only with a
shopper token for exactly that shopper), `server` (the shop's backend: any shopper's lists
and events), `admin` (catalog writes, reindex, keys, audit, erasure). `LODESTAR_ADMIN_KEY`
is the bootstrap admin key, accepted as a bearer key and, as before keys existed, in
`X-Admin-Key`.

Each route declares the scope it needs with `requires(scope)`; the guard authenticates the
request once and leaves the :class:`Caller` on the connection for handlers to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from api import tokens
from api.errors import ApiError
from api.ratelimit import RateLimiter
from models import audit, keys, timing
from models.db import Database
from models.history import session_owner
from models.pseudonym import stored_user_id
from models.settings import Settings
from models.tenancy import DEFAULT_SHOP, set_current_shop

log = logging.getLogger(__name__)

BOOTSTRAP_KEY_ID = "bootstrap"
SHOPPER_TOKEN_HEADER = "x-shopper-token"
_CALLER = "lodestar_caller"


@dataclass(frozen=True)
class Caller:
    """The key behind a request and, with a shopper token, the shopper it speaks for."""

    key_id: str
    shop_id: str
    scope: str
    shopper: str | None = None

    def may(self, scope: str) -> bool:
        return keys.scope_allows(self.scope, scope)


class Unauthorized(ApiError):
    """401: no key, or one that is not (or no longer) valid."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(401, code, message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    """403: a valid key that may not do this (scope, shopper, session)."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(403, code, message, details)


class Authenticator:
    """Checks keys and shopper tokens. What it read of a key is kept for
    `LODESTAR_KEY_CACHE_SECONDS` (unknown ids too, so a flood of made-up keys does not
    become a flood of queries)."""

    def __init__(self, settings: Settings, database: Callable[[], Database]) -> None:
        self._settings = settings
        self._database = database
        ttl = settings.access.key_cache_seconds
        self._cache: TTLCache[str, keys.StoredKey | None] = TTLCache(maxsize=10_000, ttl=ttl)
        self._lock = threading.Lock()

    @property
    def database(self) -> Database:
        return self._database()

    def forget(self, key_id: str) -> None:
        """Drop what is cached of a key (after revoking it here)."""
        with self._lock:
            self._cache.pop(key_id, None)

    def stored(self, key_id: str) -> keys.StoredKey | None:
        with self._lock:
            if key_id in self._cache:
                return self._cache[key_id]
        found = keys.find(self._database(), key_id)
        with self._lock:
            self._cache[key_id] = found
        return found

    def cached(self, headers: Mapping[str, str]) -> bool:
        """Whether `caller` can answer for these headers without reading Postgres."""
        ids = []
        parts = keys.split_key(_bearer(headers.get("authorization", "")))
        if parts is not None:
            ids.append(parts[0])
        token = headers.get(SHOPPER_TOKEN_HEADER)
        if token:
            with contextlib.suppress(tokens.BadToken):
                ids.append(tokens.signing_key_id(token))
        with self._lock:
            return all(i in self._cache for i in ids)

    def caller(self, headers: Mapping[str, str]) -> Caller:
        """The caller a request's headers name; Unauthorized if none or a bad one."""
        given = _bearer(headers.get("authorization", ""))
        legacy = headers.get("x-admin-key", "")
        bootstrap = self._settings.access.admin_key
        if bootstrap and any(_same(v, bootstrap) for v in (given, legacy) if v):
            caller = Caller(BOOTSTRAP_KEY_ID, DEFAULT_SHOP, "admin")
        elif given:
            caller = self._key_caller(given)
        elif legacy:
            raise Unauthorized("invalid_key", "X-Admin-Key is wrong")
        else:
            raise Unauthorized("key_required",
                               "send a key: Authorization: Bearer <key> (see `lodestar keys`)")
        token = headers.get(SHOPPER_TOKEN_HEADER)
        if token:
            caller = Caller(caller.key_id, caller.shop_id, caller.scope,
                            self._shopper(token, caller))
        return caller

    def _key_caller(self, key: str) -> Caller:
        parts = keys.split_key(key)
        stored = self.stored(parts[0]) if parts else None
        if parts is None or stored is None or not keys.matches(stored, parts[1]):
            raise Unauthorized("invalid_key", "the key is not valid (unknown or revoked)")
        return Caller(stored.key_id, stored.shop_id, stored.scope)

    def _shopper(self, token: str, caller: Caller) -> str:
        try:
            signer = self.stored(tokens.signing_key_id(token))
            if signer is None:
                raise tokens.BadToken("the key that signed the shopper token is not valid")
            claims = tokens.verify(token, signer,
                                   self._settings.access.shopper_token_max_ttl_seconds)
        except tokens.BadToken as exc:
            raise Unauthorized("invalid_shopper_token", str(exc)) from None
        if claims.shop_id != caller.shop_id:
            raise Unauthorized("invalid_shopper_token",
                               "the shopper token belongs to another shop than the key")
        return claims.user_id


def _bearer(value: str) -> str:
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def requires(scope: keys.Scope) -> Callable[[ASGIConnection[Any, Any, Any, Any],
                                             BaseRouteHandler], Awaitable[None]]:
    """A guard: the request needs a key of at least `scope`."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        caller = await authenticate(connection)
        if not caller.may(scope):
            if scope == "admin":
                await asyncio.to_thread(_record_denied, connection, caller)
            raise Forbidden("insufficient_scope", f"this needs a key of scope {scope} or above",
                            {"needed": scope, "held": caller.scope})

    guard.__name__ = f"requires_{scope}"
    guard.scope = scope  # type: ignore[attr-defined]
    return guard


def _record_denied(connection: ASGIConnection[Any, Any, Any, Any], caller: Caller) -> None:
    """An admin route tried with a lesser key goes in the audit log (a valid key only: a
    missing or made-up one names nobody)."""
    authenticator: Authenticator = connection.app.state["authenticator"]
    target = f"{connection.scope.get('method', '')} {connection.url.path}"
    try:
        audit.record(authenticator.database, caller.shop_id, caller.key_id, "admin.denied",
                     target, "refused", {"code": "insufficient_scope", "held": caller.scope})
    except Exception:
        log.error("could not write the audit entry of a denied admin request", exc_info=True)


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """The caller of this request, checked once (key, shopper token, rate limits) and kept
    on the connection."""
    known = connection.scope.get(_CALLER)  # type: ignore[misc]
    if isinstance(known, Caller):
        return known
    with timing.stage("auth"):
        return await _authenticate(connection)


async def _authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    authenticator: Authenticator = connection.app.state["authenticator"]
    limiter: RateLimiter = connection.app.state["limiter"]
    headers = dict(connection.headers.items())
    try:
        # A key not in the cache is read from Postgres: off the event loop.
        if authenticator.cached(headers):
            caller = authenticator.caller(headers)
        else:
            caller = await asyncio.to_thread(authenticator.caller, headers)
    except Unauthorized:
        # Failed attempts count against the address as a browser's requests do, so that
        # guessing keys (each a lookup) is slowed like any other flood.
        await _count(limiter, connection, ANONYMOUS, "public")
        raise
    await _count(limiter, connection, caller.key_id, caller.scope)
    connection.scope[_CALLER] = caller  # type: ignore[literal-required]
    # Everything this request does from here (the handler, its threads, its transactions)
    # is for the key's shop: the request's task has a context of its own.
    set_current_shop(caller.shop_id)
    return caller


ANONYMOUS = "unauthenticated"  # the rate-limit bucket of requests without a valid key


async def _count(limiter: RateLimiter, connection: ASGIConnection[Any, Any, Any, Any],
                 key_id: str, scope: str) -> None:
    if not limiter.active:
        return
    address = connection.client.host if connection.client else None
    if limiter.counter.shared:
        await asyncio.to_thread(limiter.check, key_id, scope, address)
    else:
        limiter.check(key_id, scope, address)


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """The caller a guard authenticated (every /v1 route has one)."""
    caller = connection.scope.get(_CALLER)  # type: ignore[misc]
    if not isinstance(caller, Caller):
        raise RuntimeError("route has no requires() guard")
    return caller


def check_shopper(caller: Caller, user_id: str) -> None:
    """A `public` key speaks for one shopper only: the one its shopper token names."""
    if caller.may("server"):
        return
    if caller.shopper is None:
        raise Forbidden("shopper_token_required",
                        f"with a public key, a shopper's lists and events need a shopper token "
                        f"({SHOPPER_TOKEN_HEADER} header)")
    if caller.shopper != user_id:
        raise Forbidden("wrong_shopper", "the shopper token is for another shopper")


def check_session(caller: Caller, database: Database, session_id: str,
                  settings: Settings) -> None:
    """With a `public` key a session is readable only by the shopper who started it."""
    if caller.may("server"):
        return
    if caller.shopper is None:
        raise Forbidden("shopper_token_required",
                        "with a public key, a session needs the shopper token of its shopper")
    owner = session_owner(database, session_id)
    if owner is not None and owner != stored_user_id(settings, caller.shopper):
        raise Forbidden("session_of_another_shopper",
                        "this session was started by another shopper")


def check_posted_events(caller: Caller, database: Database, items: Sequence[Any],
                        settings: Settings) -> None:
    """With a `public` key every event posted must be the token's shopper's, in sessions
    that shopper started; one that is not refuses the whole request, before anything is
    stored. Events without a shopper or session (an anonymous search impression) pass."""
    if caller.may("server"):
        return
    sessions = set()
    for item in items:
        if not isinstance(item, dict):
            continue  # the validator refuses it
        user_id, session_id = item.get("user_id"), item.get("session_id")
        if isinstance(user_id, str):
            check_shopper(caller, user_id)
        if isinstance(session_id, str):
            sessions.add(session_id)
    for session_id in sorted(sessions)[:_SESSIONS_CHECKED]:
        check_session(caller, database, session_id, settings)
    if len(sessions) > _SESSIONS_CHECKED:
        raise Forbidden("too_many_sessions",
                        f"with a public key one request may name at most {_SESSIONS_CHECKED} "
                        "sessions")


_SESSIONS_CHECKED = 10
