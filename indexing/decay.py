"""Time decay in SQL that never underflows, however old an event is.

Postgres computes `exp()` of a double precision argument and raises "value out of range:
underflow" once the result is below about 1e-308: with the popularity's 7-day half-life
that is an event some 20 years old, with a decay of 1 per day one 2 years old. The
exponent is capped where exp() is still representable; the weight there (about 1e-304)
is as good as zero to any sum it joins.
"""

from __future__ import annotations

MAX_EXPONENT = 700.0
"""exp(-700) ≈ 1e-304: the smallest decay factor computed."""


def decay_factor(rate: str, age_seconds: str) -> str:
    """SQL for exp(-rate · age_days), capped so that it cannot underflow.

    rate: an SQL expression of the decay per day (a bound parameter, say).
    age_seconds: an SQL expression of the event's age in seconds.
    """
    return f"exp(-LEAST({rate} * ({age_seconds}) / 86400.0, {MAX_EXPONENT}))"
