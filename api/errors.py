"""Every error leaves as `{"error": {"code", "message", "details"}}`: 4xx for bad input."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger(__name__)


class ApiError(HTTPException):
    """An error with a stable machine-readable code."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(status_code=status_code, detail=message, extra=details)
        self.code = code


class BadParameter(ApiError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(400, "invalid_parameter", f"{name}: {message}", {"parameter": name})


class NotFound(ApiError):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(404, "not_found", f"{what} {ident!r} not found", {what: ident})


class IndexUnavailable(ApiError):
    def __init__(self, message: str = "no index version is live: run `lodestar reindex`") -> None:
        super().__init__(503, "index_unavailable", message)


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
    return _body(exc.status_code, code, str(exc.detail), exc.extra or None)


def internal_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _body(HTTP_500_INTERNAL_SERVER_ERROR, "internal", "internal error", None)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ValidationException: validation_handler,
    HTTPException: http_handler,
    Exception: internal_handler,
}
