"""The two ranking decisions of an experiment: which variant a shopper sees, and how an
interleaved list mixes two variants' rankings. Pure functions, no I/O.

Assignment hashes the experiment's salt with the unit (the shopper, or the session of an
anonymous shopper), so it is the same on every request, in every process and after a
restart, and independent between experiments (each has its own salt).

Interleaving is team-draft (Radlinski, Kurup and Joachims, 2008): the two rankings take
turns, like captains picking teams, each adding its best product not already picked; the
team with fewer picks goes next and a coin decides ties. A click credits the team that
picked the product (counted where results are read, models.experiments), so a shopper's
clicks compare the two rankers on the same list.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

_SPACE = float(1 << 64)


def unit_position(salt: str, unit: str) -> float:
    """Where `unit` falls in [0, 1) for the experiment with this salt (SHA-256, so that
    neighbouring ids land far apart)."""
    digest = hashlib.sha256(f"{salt}\x1f{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SPACE


def assign(salt: str, unit: str, shares: Sequence[float]) -> int:
    """The index of the variant that `unit` sees: variants own consecutive slices of
    [0, 1) in proportion to their shares (which need not sum to 1)."""
    if not shares or any(s < 0 for s in shares) or sum(shares) <= 0:
        raise ValueError("shares must be non-negative with a positive sum")
    point = unit_position(salt, unit) * sum(shares)
    edge = 0.0
    for index, share in enumerate(shares):
        edge += share
        if point < edge:
            return index
    return max(i for i, s in enumerate(shares) if s > 0)


def team_draft(first: Sequence[str], second: Sequence[str], limit: int,
               seed: str) -> tuple[list[str], list[int]]:
    """Interleave two rankings of product ids into at most `limit` ids, and which ranking
    (0 or 1) picked each. The coin that breaks ties is seeded by `seed` (the request id), so
    a list can be rebuilt. A product both rankings hold is picked once, by whichever team
    reached it first; when one ranking runs out, the other fills the list."""
    rankings = (list(first), list(second))
    cursor = [0, 0]
    picks = [0, 0]
    taken: set[str] = set()
    coin = random.Random(seed)
    merged: list[str] = []
    teams: list[int] = []

    def next_of(team: int) -> str | None:
        ranking = rankings[team]
        while cursor[team] < len(ranking) and ranking[cursor[team]] in taken:
            cursor[team] += 1
        return ranking[cursor[team]] if cursor[team] < len(ranking) else None

    while len(merged) < limit:
        # The team with fewer picks goes next; a coin decides between equals.
        team = (0 if picks[0] < picks[1] else 1) if picks[0] != picks[1] else coin.randrange(2)
        item = next_of(team)
        if item is None:
            team = 1 - team
            item = next_of(team)
            if item is None:
                break
        taken.add(item)
        merged.append(item)
        teams.append(team)
        picks[team] += 1
    return merged, teams

