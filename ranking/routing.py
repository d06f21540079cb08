"""Cold-start routing: which recommendation strategy a shopper's history can support.

Collaborative filtering is only as good as the history behind a user's vector, so a
shopper is routed by how much we know about them: nothing (popular items), a session
but no account history (session), a handful of interactions (content similarity, then
content plus similar shoppers) and enough history with a trained vector (full hybrid).
Pure: counts in, a route out.
"""

from __future__ import annotations

from enum import StrEnum


class Route(StrEnum):
    """The strategy a recommendation request is served by; the value is reported as-is."""

    POPULAR = "popular"
    """Nothing known: popular and trending items, per category where a context is given."""
    CONTENT = "content"
    """A few interactions: items whose text is similar to what the shopper touched."""
    CONTENT_KNN = "content_knn"
    """Some history: content similarity plus what shoppers with overlapping history liked."""
    HYBRID = "hybrid"
    """Enough history and a CF vector: collaborative and content scores blended."""
    SESSION = "session"
    """Anonymous, but the current session has events: items like the ones in it."""
    FALLBACK = "fallback"
    """The index is missing, too old or failing: popular items read from Postgres."""


def route_for(
    n_interactions: int,
    *,
    has_user_vector: bool,
    session_events: int = 0,
    content_max: int = 2,
    knn_max: int = 5,
) -> Route:
    """The route for a shopper with ``n_interactions`` past interactions.

    n_interactions:  the shopper's interactions in the event window (0 for an anonymous
                     visitor); the caller picks what counts (events or distinct items) and
                     sets the thresholds to match.
    has_user_vector: whether the shopper has a CF vector, trained at the last reindex or
                     folded in since.
    session_events:  events in the current session, used only when the history is empty.
    content_max:     the most interactions still served by content alone (seed: 1–2).
    knn_max:         the most interactions served by content plus neighbours (seed: 3–5).

    Branches, in order:

    - no history, events in the session → SESSION: the session is all we know, and it is
      fresher than any popularity list;
    - no history, no session → POPULAR. A CF vector without any history in the window is
      ignored: it describes tastes the window has since forgotten;
    - 1..content_max → CONTENT: too little for CF, enough to find similar items;
    - content_max+1..knn_max → CONTENT_KNN: enough overlap to find similar shoppers, still
      too little for the shopper's own CF vector to be trusted;
    - more than knn_max with a CF vector → HYBRID;
    - more than knn_max without one → CONTENT_KNN: the shopper arrived after the last
      reindex and was not folded in, and a hybrid without its CF half would be content
      alone under another name; neighbours need only the history, which they have.

    Raises ValueError for negative counts or thresholds out of order.
    """
    if n_interactions < 0 or session_events < 0:
        raise ValueError(
            f"counts must be non-negative, got {n_interactions} interactions "
            f"and {session_events} session events"
        )
    if not 0 <= content_max <= knn_max:
        raise ValueError(f"need 0 <= content_max <= knn_max, got {content_max} and {knn_max}")
    if n_interactions == 0:
        return Route.SESSION if session_events > 0 else Route.POPULAR
    if n_interactions <= content_max:
        return Route.CONTENT
    if n_interactions <= knn_max or not has_user_vector:
        return Route.CONTENT_KNN
    return Route.HYBRID
