"""Where a request's time goes: named stages, timed exclusively, per request.

The HTTP layer opens a `Timings` for each request (api.timing) and the parts that cost
time mark their work with `stage(name)`: the vector store's calls, the encoder, the
ranking core's calls, the reads of a shopper's history. Stages nest, and the innermost one
is charged: while `vector` runs inside `rank`, `rank` stands still. So the stages of a
request never overlap, and what is left of the total (`other`: the framework, validation,
serialising) is their complement.

A *weak* stage (`stage("db", weak=True)`, every SQL statement) is charged only when no
other stage is open: a statement run while reading history is history's time, one run on
its own is `db`'s.

Outside a request (a reindex, a test calling a service) nothing is open and `stage` costs
one context-variable read. One request's stages are entered from one thread at a time.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

OTHER = "other"
TOTAL = "total"


class Timings:
    """The seconds each stage of one request took, exclusive of the stages inside it."""

    __slots__ = ("_open", "_since", "began", "seconds")

    def __init__(self) -> None:
        self.began = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self._open: list[str] = []
        self._since = self.began

    def _charge(self, now: float) -> None:
        if self._open:
            name = self._open[-1]
            self.seconds[name] = self.seconds.get(name, 0.0) + (now - self._since)
        self._since = now

    def enter(self, name: str) -> None:
        self._charge(time.perf_counter())
        self._open.append(name)

    def leave(self) -> None:
        self._charge(time.perf_counter())
        self._open.pop()

    @property
    def busy(self) -> bool:
        return bool(self._open)

    def breakdown(self, now: float | None = None) -> dict[str, float]:
        """Seconds per stage so far, with `other` (the rest) and `total`."""
        total = (now if now is not None else time.perf_counter()) - self.began
        parts = dict(self.seconds)
        parts[OTHER] = max(total - sum(parts.values()), 0.0)
        parts[TOTAL] = total
        return parts


_CURRENT: ContextVar[Timings | None] = ContextVar("lodestar_timings", default=None)


def begin() -> tuple[Timings, Token[Timings | None]]:
    """Start timing a request in this context; `end(token)` when it is answered."""
    timings = Timings()
    return timings, _CURRENT.set(timings)


def end(token: Token[Timings | None]) -> None:
    _CURRENT.reset(token)


@contextmanager
def stage(name: str, weak: bool = False) -> Iterator[None]:
    """Charge the block's time to `name` in the request being timed, if any."""
    timings = _CURRENT.get()
    if timings is None or (weak and timings.busy):
        yield
        return
    timings.enter(name)
    try:
        yield
    finally:
        timings.leave()


def current() -> Timings | None:
    return _CURRENT.get()


def timed(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function so that its calls are charged to `name` (see `stage`)."""
    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with stage(name):
                return function(*args, **kwargs)
        return run
    return decorate
