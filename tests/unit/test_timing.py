"""Per-request stage timings (models.timing): exclusive nesting, weak stages, no request;
and the memory budget of the warm-up that goes with them."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from models import timing


def busy_for(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_an_inner_stage_is_not_also_charged_to_the_outer_one() -> None:
    timings, token = timing.begin()
    try:
        with timing.stage("rank"):
            busy_for(0.01)
            with timing.stage("vector"):
                busy_for(0.02)
            busy_for(0.01)
        parts = timings.breakdown()
    finally:
        timing.end(token)
    assert 0.019 <= parts["vector"] < 0.03
    assert 0.019 <= parts["rank"] < 0.03
    # The stages and the rest make up the total, without overlap.
    assert abs(parts["rank"] + parts["vector"] + parts[timing.OTHER] - parts[timing.TOTAL]) < 1e-9


def test_a_weak_stage_counts_only_outside_other_stages() -> None:
    timings, token = timing.begin()
    try:
        with timing.stage("db", weak=True):
            busy_for(0.005)
        with timing.stage("history"), timing.stage("db", weak=True):
            busy_for(0.005)
        parts = timings.breakdown()
    finally:
        timing.end(token)
    assert 0.005 <= parts["db"] < 0.01
    assert 0.005 <= parts["history"] < 0.01


def test_the_decorator_charges_calls_and_passes_results_and_errors_through() -> None:
    @timing.timed("encode")
    def encode(x: int) -> int:
        if x < 0:
            raise ValueError("negative")
        busy_for(0.002)
        return x * 2

    timings, token = timing.begin()
    try:
        assert encode(2) == 4
        with contextlib.suppress(ValueError):
            encode(-1)
        with timing.stage("rank"):
            pass
        parts = timings.breakdown()
    finally:
        timing.end(token)
    assert parts["encode"] >= 0.002
    # The failed call left its stage: what came after was charged to its own.
    assert "rank" in parts and not timings.busy


def test_outside_a_request_nothing_is_recorded() -> None:
    assert timing.current() is None
    with timing.stage("vector"):
        pass

    @timing.timed("encode")
    def f() -> int:
        return 1

    assert f() == 1
    assert timing.current() is None


def test_the_warm_up_budget_reads_the_kernels_available_memory(tmp_path: Path) -> None:
    from api.resources import available_memory

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:   12000000 kB\n")
    assert available_memory(meminfo) == 12_000_000 * 1024
    assert available_memory(tmp_path / "missing") == 1 << 30
