"""Assignment by hash and team-draft interleaving (ranking.experiments)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ranking.experiments import assign, team_draft, unit_position


def test_assignment_is_stable_and_follows_shares() -> None:
    units = [f"user:U{n:06d}" for n in range(20_000)]
    first = [assign("salt-1", u, [1, 1, 2]) for u in units]
    assert first == [assign("salt-1", u, [1, 1, 2]) for u in units]
    counts = Counter(first)
    assert counts[2] / len(units) == pytest.approx(0.5, abs=0.02)
    assert counts[0] / len(units) == pytest.approx(0.25, abs=0.02)
    # Another experiment's salt assigns independently of this one.
    other = [assign("salt-2", u, [1, 1]) for u in units]
    both = Counter(zip(first, other, strict=True))
    assert both[(2, 0)] / len(units) == pytest.approx(0.25, abs=0.02)
    with pytest.raises(ValueError, match="shares"):
        assign("s", "u", [0, 0])


def test_unit_position_is_uniform() -> None:
    points = [unit_position("s", str(n)) for n in range(10_000)]
    assert all(0 <= p < 1 for p in points)
    tenths = Counter(int(p * 10) for p in points)
    assert all(900 < tenths[d] < 1100 for d in range(10))


@given(st.lists(st.sampled_from("abcdefghij"), unique=True, max_size=10),
       st.lists(st.sampled_from("abcdefghij"), unique=True, max_size=10),
       st.integers(0, 12), st.text(max_size=8))
def test_team_draft_properties(first: list[str], second: list[str], limit: int,
                               seed: str) -> None:
    merged, teams = team_draft(first, second, limit, seed)
    assert len(merged) == len(set(merged)) == len(teams)
    assert len(merged) == min(limit, len(set(first) | set(second)))
    assert set(merged) <= set(first) | set(second)
    for team, ranking in ((0, first), (1, second)):
        picked = [item for item, t in zip(merged, teams, strict=True) if t == team]
        # A team picks its own items, in its own order.
        assert picked == [item for item in ranking if item in picked]
    # While both rankings have items left, neither team gets two picks ahead.
    for end in range(1, len(teams) + 1):
        counts = Counter(teams[:end])
        rest = [set(r) - set(merged[:end]) for r in (first, second)]
        if rest[0] and rest[1]:
            assert abs(counts[0] - counts[1]) <= 1
    assert team_draft(first, second, limit, seed) == (merged, teams)


def test_identical_rankings_split_credit_evenly() -> None:
    ranking = [f"p{n}" for n in range(10)]
    firsts = Counter(team_draft(ranking, ranking, 10, f"r{n}")[1][0] for n in range(2_000))
    assert firsts[0] / 2_000 == pytest.approx(0.5, abs=0.04)
    merged, _ = team_draft(ranking, ranking, 10, "x")
    assert merged == ranking  # the same ranking interleaved with itself is itself
