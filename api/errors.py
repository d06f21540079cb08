"""Every error leaves as `{"error": {"code", "message", "details"}}`: 4xx for bad input."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy import exc as sqlalchemy_exc

log = logging.getLogger(__name__)


class ApiError(HTTPException):
    """An error with a stable machine-readable code."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=message, extra=details,
                         headers=headers)
        self.code = code


RETRY_AFTER_SECONDS = 5
"""What a 503 asks a client to wait: a database restart, a stalled query."""


class DatabaseUnavailable(ApiError):
    """Postgres did not answer (down, restarting, or a statement past its timeout)."""

    def __init__(self, message: str = "the database is unavailable; retry shortly") -> None:
        super().__init__(503, "database_unavailable", message,
                         headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class BadParameter(ApiError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(400, "invalid_parameter", f"{name}: {message}", {"parameter": name})


class NotFound(ApiError):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(404, "not_found", f"{what} {ident!r} not found", {what: ident})


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
          415: "unsupported_media_type", 422: "unprocessable", 429: "too_many_requests",
          503: "unavailable"}


def _body(status: int, code: str, message: str, details: Any) -> Response[dict[str, Any]]:
    return Response(
        {"error": {"code": code, "message": message, "details": details}},
        status_code=status,
        media_type=MediaType.JSON,
    )


def validation_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Name the offending parameter in the message: `limit: Expected `int`, got `str``."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for item in extra:
        if isinstance(item, dict):
            key = item.get("key") or item.get("source") or "request"
            parts.append(f"{key}: {item.get('message', 'invalid')}")
    message = "; ".join(parts) or str(exc.detail)
    return _body(400, "invalid_parameter", message, extra or None)


def http_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code = exc.code if isinstance(exc, ApiError) else _CODES.get(exc.status_code, "error")
    response = _body(exc.status_code, code, str(exc.detail), exc.extra or None)
    response.headers.update(exc.headers or {})
    return response


def route_of(request: Request[Any, Any, Any]) -> str:
    """The route's template (`/v1/users/{user_id:str}/home`), never the path itself: logs
    carry no shopper ids."""
    return str(request.scope.get("path_template") or "(no route)")


def database_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Postgres down, restarting, out of connections or past the statement timeout: a 503
    the client may retry, not a 500. (Bad data in a query stays a 500: that is a bug.)"""
    log.warning("database unavailable on %s %s: %s", request.method, route_of(request),
                type(exc).__name__)
    return http_handler(request, DatabaseUnavailable())


def internal_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, route_of(request))
    return _body(HTTP_500_INTERNAL_SERVER_ERROR, "internal", "internal error", None)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ValidationException: validation_handler,
    HTTPException: http_handler,
    # Connection refused or lost, a statement cancelled by its timeout (QueryCanceled is an
    # OperationalError), no connection free in the pool in time.
    sqlalchemy_exc.OperationalError: database_handler,
    sqlalchemy_exc.InterfaceError: database_handler,
    sqlalchemy_exc.TimeoutError: database_handler,
    Exception: internal_handler,
}
