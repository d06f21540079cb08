"""The demo shop written into a real Postgres: what lands in the tables, and when it refuses."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text

from data.demo_shop import ShopSpec, generate_shop
from models.db import Database

TINY = ShopSpec(products=300, users=100, events=3_000, seed=5)

CHECKSUMS = {
    table: f"SELECT md5(string_agg(t::text, E'\\n' ORDER BY t.{key})) FROM {table} t"
    for table, key in (("products", "product_id"), ("users", "user_id"), ("events", "event_id"))
}


def _scalar(database: Database, sql: str) -> Any:
    with database.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _checksums(database: Database) -> dict[str, Any]:
    return {table: _scalar(database, sql) for table, sql in CHECKSUMS.items()}


@pytest.fixture
def tiny(db: Database) -> Database:
    generate_shop(db, TINY)
    return db


def test_a_tiny_shop_is_generated_quickly_and_exactly(db: Database) -> None:
    started = time.perf_counter()
    stats = generate_shop(db, TINY)
    assert time.perf_counter() - started < 5
    assert (stats.products, stats.users, stats.events) == (300, 100, 3_000)
    assert _scalar(db, "SELECT count(*) FROM products") == 300
    assert _scalar(db, "SELECT count(*) FROM users") == 100
    assert _scalar(db, "SELECT count(*) FROM events") == 3_000
    assert sum(stats.events_by_type.values()) == 3_000
    assert stats.sessions == _scalar(db, "SELECT count(DISTINCT session_id) FROM events")
    assert stats.users_with_events == _scalar(db, "SELECT count(DISTINCT user_id) FROM events")
    assert stats.categories == _scalar(db, "SELECT count(DISTINCT category) FROM products")


def test_same_seed_same_rows_other_seed_other_rows(db: Database) -> None:
    generate_shop(db, TINY)
    first = _checksums(db)
    assert all(first.values())
    generate_shop(db, TINY, replace=True)
    assert _checksums(db) == first
    generate_shop(db, ShopSpec(products=300, users=100, events=3_000, seed=6), replace=True)
    other = _checksums(db)
    assert all(other[table] != first[table] for table in CHECKSUMS)


def test_refuses_a_shop_that_is_not_empty(tiny: Database) -> None:
    before = _checksums(tiny)
    with pytest.raises(ValueError, match=r"replace=True"):
        generate_shop(tiny, TINY)
    assert _checksums(tiny) == before


def test_refuses_when_only_events_are_there(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at) "
            "VALUES ('e1', 'u1', 'p1', 'view', now())"
        ))
    with pytest.raises(ValueError, match="events"):
        generate_shop(db, TINY)


def test_a_failure_midway_leaves_the_old_shop_in_place(tiny: Database) -> None:
    before = _checksums(tiny)

    def fail_while_copying(stage: str, done: int, total: int) -> None:
        if stage == "copy" and done > 400:
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        generate_shop(tiny, ShopSpec(seed=99, products=300, users=100, events=3_000),
                      fail_while_copying, replace=True)
    assert _checksums(tiny) == before


def test_catalogue_spans_the_taxonomy(tiny: Database) -> None:
    assert _scalar(tiny, "SELECT count(DISTINCT category) FROM products") >= 20
    with tiny.engine.connect() as conn:
        per_category = conn.execute(text(
            "SELECT category, count(DISTINCT subcategory) FROM products GROUP BY 1"
        )).all()
    assert all(3 <= n <= 8 for _, n in per_category)
    assert _scalar(tiny, "SELECT count(*) FROM products WHERE product_id !~ '^P[0-9]{6}$'") == 0
    assert _scalar(tiny, "SELECT count(*) FROM users WHERE user_id !~ '^U[0-9]{6}$'") == 0
    assert _scalar(tiny, "SELECT count(*) FROM products WHERE price <= 0") == 0
    assert _scalar(tiny, "SELECT count(*) FROM products WHERE cardinality(tags) = 0") == 0
    assert _scalar(tiny, "SELECT count(*) FROM products WHERE updated_at <> created_at") == 0
    assert _scalar(tiny, "SELECT count(*) FROM users WHERE cohort IS NULL") == 0


def test_events_refer_to_products_and_users_that_already_existed(tiny: Database) -> None:
    assert _scalar(tiny, """
        SELECT count(*) FROM events e LEFT JOIN products p USING (product_id)
        WHERE p.product_id IS NULL OR p.created_at > e.occurred_at""") == 0
    assert _scalar(tiny, """
        SELECT count(*) FROM events e LEFT JOIN users u USING (user_id)
        WHERE u.user_id IS NULL OR u.created_at > e.occurred_at""") == 0
    assert _scalar(tiny, """
        SELECT count(*) FROM events e JOIN products p USING (product_id)
        WHERE e.price <> p.price""") == 0
    assert _scalar(tiny, "SELECT count(*) FROM events WHERE dwell_ms IS NULL") == 0


def test_new_arrivals_appear_during_the_history(tiny: Database) -> None:
    start, end = TINY.start.isoformat(), TINY.end.isoformat()
    arrivals = _scalar(tiny, f"""
        SELECT count(*) FROM products
        WHERE created_at >= '{start}' AND created_at < '{end}'""")
    assert 10 <= arrivals <= 60


def test_funnel_narrows_from_views_to_purchases(tiny: Database) -> None:
    with tiny.engine.connect() as conn:
        counts: dict[str, int] = dict(conn.execute(text(
            "SELECT event_type, count(*) FROM events GROUP BY 1")).all())
    assert counts["view"] > counts["click"] > counts["add_to_cart"] > counts["purchase"] > 0


def test_popularity_is_skewed(tiny: Database) -> None:
    share = _scalar(tiny, """
        WITH per_product AS (
            SELECT p.product_id, count(e.event_id) AS n
            FROM products p LEFT JOIN events e USING (product_id) GROUP BY 1),
        ranked AS (SELECT n, row_number() OVER (ORDER BY n DESC) AS r FROM per_product)
        SELECT sum(n) FILTER (WHERE r <= (SELECT count(*) / 10 FROM products))::float
               / sum(n) FROM ranked""")
    assert share > 0.3


def test_users_fill_every_activity_bucket(tiny: Database) -> None:
    with tiny.engine.connect() as conn:
        buckets: dict[str, int] = dict(conn.execute(text("""
            SELECT CASE WHEN n = 0 THEN '0' WHEN n <= 2 THEN '1-2'
                        WHEN n <= 5 THEN '3-5' ELSE '6+' END, count(*)
            FROM (SELECT u.user_id, count(e.event_id) AS n
                  FROM users u LEFT JOIN events e USING (user_id) GROUP BY 1) per_user
            GROUP BY 1""")).all())
    assert set(buckets) == {"0", "1-2", "3-5", "6+"}


def test_sessions_belong_to_one_user_on_one_device_and_run_forward(tiny: Database) -> None:
    assert _scalar(tiny, """
        SELECT count(*) FROM (
            SELECT session_id FROM events GROUP BY 1
            HAVING count(DISTINCT user_id) > 1 OR count(DISTINCT device_type) > 1) mixed
        """) == 0
    assert _scalar(tiny, """
        SELECT count(*) FROM (
            SELECT occurred_at < lag(occurred_at) OVER (PARTITION BY session_id ORDER BY event_id)
                   AS backwards
            FROM events) steps WHERE backwards""") == 0
    with tiny.engine.connect() as conn:
        devices: dict[str, int] = dict(conn.execute(text(
            "SELECT device_type, count(DISTINCT session_id) FROM events GROUP BY 1"
        )).all())
    assert set(devices) == {"mobile", "desktop", "tablet"}
    assert devices["mobile"] > devices["desktop"] > devices["tablet"]
