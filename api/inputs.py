"""Bounds every request's URL before any work: at most MAX_URL_BYTES long (the limit common
proxies keep), and no path segment or query parameter may hold a control character or a
bidirectional override (a NUL byte would otherwise reach Postgres, which refuses it in
text, as a 500)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from api.errors import ApiError, BadParameter
from data.parsers import UNSAFE

MAX_NAME_SHOWN = 64
MAX_URL_BYTES = 8192
"""Path and query string together. No parameter needs more (ids and labels are at most a
few hundred characters); longer is refused before any parameter is parsed."""


def refuse_unsafe_characters(request: Request[Any, Any, Any]) -> None:
    """A before-request hook: 414 for a URL past MAX_URL_BYTES; 400 naming the parameter
    (or `path`) that holds an unsafe character."""
    scope = request.scope
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    raw_path = raw_path.split(b"?", 1)[0]  # some servers leave the query on it
    length = len(raw_path) + len(scope.get("query_string", b""))
    if length > MAX_URL_BYTES:
        raise ApiError(414, "uri_too_long",
                       f"the URL is {length} bytes; at most {MAX_URL_BYTES} are accepted",
                       {"max_bytes": MAX_URL_BYTES})
    if UNSAFE.search(request.scope["path"]):
        raise BadParameter("path", "contains a control character or bidirectional override")
    for name, value in request.query_params.multi_items():
        if UNSAFE.search(name) or UNSAFE.search(value):
            shown = UNSAFE.sub("?", name)[:MAX_NAME_SHOWN]
            raise BadParameter(shown, "contains a control character or bidirectional override")
