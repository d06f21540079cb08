"""Bounds every request's URL before any work: no path segment or query parameter may hold
a control character or a bidirectional override (a NUL byte would otherwise reach
Postgres, which refuses it in text, as a 500)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from api.errors import BadParameter
from data.parsers import UNSAFE

MAX_NAME_SHOWN = 64


def refuse_unsafe_characters(request: Request[Any, Any, Any]) -> None:
    """A before-request hook: 400 naming the parameter (or `path`) that holds one."""
    if UNSAFE.search(request.scope["path"]):
        raise BadParameter("path", "contains a control character or bidirectional override")
    for name, value in request.query_params.multi_items():
        if UNSAFE.search(name) or UNSAFE.search(value):
            shown = UNSAFE.sub("?", name)[:MAX_NAME_SHOWN]
            raise BadParameter(shown, "contains a control character or bidirectional override")
