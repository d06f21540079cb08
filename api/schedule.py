"""Periodic retraining for `lodestar reindex --schedule 6h`: parse the interval, run the job
on a fixed cadence, keep going when one run fails or finds another reindex running."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from data.parsers import parse_span

log = logging.getLogger(__name__)


def parse_interval(value: str) -> float:
    """'90s', '30m', '6h', '1d' (or combined, '1h30m') as seconds; at least a minute, so a
    typo cannot start a reindex loop that never rests."""
    seconds = parse_span(value)
    if seconds < 60:
        raise ValueError(f"{value!r} is shorter than a minute")
    return seconds


def run_every(interval: float, job: Callable[[], None], rounds: int | None = None,
              clock: Callable[[], float] = time.monotonic,
              sleep: Callable[[float], None] = time.sleep) -> int:
    """Run `job` now and then every `interval` seconds from each start (a run longer than
    the interval is followed at once by the next). A failing run is logged and the
    schedule goes on. Stops after `rounds` runs when given; returns the runs that failed."""
    failed = 0
    n = 0
    while rounds is None or n < rounds:
        started = clock()
        try:
            job()
        except Exception:
            failed += 1
            log.exception("scheduled run failed; the next one is in %.0f s", interval)
        n += 1
        if rounds is not None and n >= rounds:
            break
        sleep(max(0.0, started + interval - clock()))
    return failed
