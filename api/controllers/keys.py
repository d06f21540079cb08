"""Admin: API keys of the caller's shop (`/v1/admin/keys`) and its audit log
(`/v1/admin/audit`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody, QueryParameter

from api.audited import audited
from api.auth import Authenticator, requires
from api.controllers.params import ADMIN_ERRORS, PathId, Res, Who
from api.errors import NotFound
from models import audit, keys

MAX_AUDIT_PAGE = 500


class KeyIn(msgspec.Struct, forbid_unknown_fields=True):
    scope: Literal["public", "server", "admin"]
    # One line of printable text: Postgres cannot store a NUL, and a label needs no control
    # characters.
    name: Annotated[str, msgspec.Meta(max_length=keys.MAX_NAME_LENGTH,
                                      pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


class KeyList(msgspec.Struct):
    items: list[keys.KeyInfo]


class AuditItem(msgspec.Struct):
    entry_id: int
    at: datetime
    key_id: str
    action: str
    target: str
    outcome: str
    details: dict[str, object]


class AuditPage(msgspec.Struct):
    items: list[AuditItem]
    next_before: int | None  # pass as `before` for the next (older) page


class KeyController(Controller):
    path = "/v1/admin"
    tags = ["admin"]
    guards = [requires("admin")]

    @post("/keys", status_code=201, sync_to_thread=True, responses=ADMIN_ERRORS)
    def create_key(self, resources: Res, caller: Who,
                   data: JSONBody[KeyIn]) -> keys.CreatedKey:
        """Make a key in the caller's shop. The key is in this answer only: it is stored
        as a hash and cannot be shown again."""
        with audited(resources, caller, "keys.create", details={"scope": data.scope}) as found:
            made = keys.create(resources.database, data.scope, data.name, caller.shop_id)
            found["key_id"] = made.key_id
        return made

    @get("/keys", sync_to_thread=True, responses=ADMIN_ERRORS)
    def list_keys(self, resources: Res, caller: Who,
                  revoked: Annotated[bool, QueryParameter(
                      description="Include revoked keys.")] = False) -> KeyList:
        """The shop's keys, never their secrets."""
        rows = keys.list_keys(resources.database, caller.shop_id, include_revoked=revoked)
        return KeyList(rows)

    @delete("/keys/{key_id:str}", status_code=200, sync_to_thread=True,
            responses=ADMIN_ERRORS)
    def revoke_key(self, request: Request[Any, Any, Any], resources: Res, caller: Who,
                   key_id: PathId) -> keys.KeyInfo:
        """Revoke a key: this server refuses it at once, others within
        LODESTAR_KEY_CACHE_SECONDS. Revoking a revoked key answers it as it is."""
        with audited(resources, caller, "keys.revoke", key_id):
            info = keys.revoke(resources.database, key_id, caller.shop_id)
            if info is None:
                raise NotFound("key", key_id)
        authenticator: Authenticator = request.app.state["authenticator"]
        authenticator.forget(key_id)
        return info

    @get("/audit", sync_to_thread=True, responses=ADMIN_ERRORS)
    def audit_log(
        self, resources: Res, caller: Who,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_AUDIT_PAGE)] = 50,
        before: Annotated[int | None, QueryParameter(
            ge=1, le=2**63 - 1, description="Entries older than this entry id.")] = None,
        action: Annotated[str | None, QueryParameter(
            min_length=1, max_length=100, description="Only this action.")] = None,
    ) -> AuditPage:
        """The shop's admin actions, newest first: who (key id), what, on what, when and
        how it ended."""
        rows = audit.page(resources.database, caller.shop_id, limit, before, action)
        items = [AuditItem(r.entry_id, r.at, r.key_id, r.action, r.target, r.outcome,
                           r.details) for r in rows]
        return AuditPage(items, rows[-1].entry_id if len(rows) == limit else None)
