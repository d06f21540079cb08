import pytest

from ranking.routing import Route, route_for


def test_shopper_with_no_history_and_no_session_gets_popular_items() -> None:
    assert route_for(0, has_user_vector=False) is Route.POPULAR


def test_anonymous_shopper_with_session_events_is_routed_to_session() -> None:
    assert route_for(0, has_user_vector=False, session_events=3) is Route.SESSION


def test_stale_vector_without_history_is_not_trusted() -> None:
    assert route_for(0, has_user_vector=True) is Route.POPULAR


@pytest.mark.parametrize("n", [1, 2])
def test_one_or_two_interactions_are_served_by_content(n: int) -> None:
    assert route_for(n, has_user_vector=True) is Route.CONTENT


@pytest.mark.parametrize("n", [3, 4, 5])
def test_three_to_five_interactions_add_similar_shoppers(n: int) -> None:
    assert route_for(n, has_user_vector=True) is Route.CONTENT_KNN


def test_enough_history_with_a_vector_is_routed_to_hybrid() -> None:
    assert route_for(6, has_user_vector=True) is Route.HYBRID
    assert route_for(500, has_user_vector=True) is Route.HYBRID


def test_user_with_history_but_no_vector_is_not_routed_to_hybrid() -> None:
    assert route_for(40, has_user_vector=False) is Route.CONTENT_KNN


def test_session_events_do_not_override_account_history() -> None:
    assert route_for(1, has_user_vector=False, session_events=9) is Route.CONTENT
    assert route_for(9, has_user_vector=True, session_events=9) is Route.HYBRID


def test_thresholds_are_parameters() -> None:
    assert route_for(3, has_user_vector=True, content_max=3, knn_max=10) is Route.CONTENT
    assert route_for(10, has_user_vector=True, content_max=3, knn_max=10) is Route.CONTENT_KNN
    assert route_for(11, has_user_vector=True, content_max=3, knn_max=10) is Route.HYBRID
    # With both thresholds at 0 any history goes straight to hybrid.
    assert route_for(1, has_user_vector=True, content_max=0, knn_max=0) is Route.HYBRID


def test_route_values_are_the_strategy_names_reported_to_clients() -> None:
    assert [r.value for r in Route] == ["popular", "content", "content_knn", "hybrid", "session",
                                       "fallback"]
    assert Route.HYBRID == "hybrid"


def test_negative_counts_and_unordered_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        route_for(-1, has_user_vector=False)
    with pytest.raises(ValueError, match="non-negative"):
        route_for(0, has_user_vector=False, session_events=-2)
    with pytest.raises(ValueError, match="content_max"):
        route_for(3, has_user_vector=True, content_max=5, knn_max=2)
