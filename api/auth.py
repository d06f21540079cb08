"""Who may call what: the admin key that catalog writes and reindex jobs require."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from api.errors import ApiError


class AdminRequired(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(403, "forbidden", message)


def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Admin endpoints want the X-Admin-Key header to match LODESTAR_ADMIN_KEY; with no key
    configured they are off."""
    settings = connection.app.state.get("settings")
    key = settings.serving.admin_key if settings is not None else None
    if not key:
        raise AdminRequired("admin endpoints are off: set LODESTAR_ADMIN_KEY to turn them on")
    given = connection.headers.get("x-admin-key", "")
    if not hmac.compare_digest(given.encode(), key.encode()):
        raise AdminRequired("X-Admin-Key is missing or wrong")
