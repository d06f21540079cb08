"""Per-stage request timings: a `Server-Timing` header on every response and a histogram
per route and stage (`lodestar_request_stage_seconds`).

The stages are those that models.timing charges while the request runs (the vector store,
the encoder, SQL, history, ranking, auth ...), with `other` for the rest and `total`. The
header lets anyone holding a response see where its time went (a browser's network panel
shows it); the histogram says the same for all requests, for dashboards.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from models import timing

Observe = Callable[[str, dict[str, float]], None]
"""Takes a request's route template and its breakdown (seconds per stage)."""


def header_value(parts: dict[str, float]) -> bytes:
    """`name;dur=ms` per stage, the milliseconds to two places, `total` last."""
    names = sorted(n for n in parts if n not in (timing.OTHER, timing.TOTAL))
    names += [timing.OTHER, timing.TOTAL]
    return ", ".join(f"{n};dur={parts[n] * 1000:.2f}" for n in names if n in parts).encode()


class ServerTiming:
    """ASGI middleware: times each HTTP request by stages, reports them when the response
    starts. `send_header` off keeps the histogram but leaves the header out."""

    def __init__(self, app: ASGIApp, observe: Observe, send_header: bool = True) -> None:
        self._app = app
        self._observe = observe
        self._send_header = send_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        timings, token = timing.begin()

        async def send_with_timings(message: Message) -> None:
            if message["type"] == "http.response.start":
                parts = timings.breakdown()
                # The route's template, never the raw path: a scanner's made-up URLs must
                # not each become a time series.
                self._observe(str(scope.get("path_template") or "unmatched"), parts)
                if self._send_header:
                    headers = list(message.get("headers") or [])
                    headers.append((b"server-timing", header_value(parts)))
                    message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        try:
            await self._app(scope, receive, send_with_timings)
        finally:
            timing.end(token)
