import pytest

from api.schedule import parse_interval, run_every


@pytest.mark.parametrize(("text", "seconds"), [("6h", 21600), ("30m", 1800), ("1d", 86400),
                                               ("1h30m", 5400), ("90s", 90), (" 2H ", 7200)])
def test_intervals(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "6", "h", "6 hours", "-1h", "10s", "1h 30m"])
def test_bad_intervals_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"interval|shorter"):
        parse_interval(text)


def test_runs_on_a_fixed_cadence_and_survives_failures() -> None:
    now = [0.0]
    starts: list[float] = []
    slept: list[float] = []

    def job() -> None:
        starts.append(now[0])
        now[0] += 100.0  # each run takes 100 s
        if len(starts) == 2:
            raise RuntimeError("database went away")

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    failed = run_every(3600.0, job, rounds=3, clock=lambda: now[0], sleep=sleep)
    assert failed == 1
    assert starts == [0.0, 3600.0, 7200.0]
    assert slept == [3500.0, 3500.0]
