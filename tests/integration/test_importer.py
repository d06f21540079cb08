"""`lodestar import` against a real Postgres: what lands in the tables, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from data.importer import (
    ImportAborted,
    ImportReport,
    Progress,
    import_events,
    import_files,
    import_products,
)
from models.db import Database

PRODUCTS_HEADER = "product_id,title,category,subcategory,brand,price,description,tags,created_date"
EVENTS_HEADER = (
    "event_id,user_id,product_id,event_type,timestamp,session_id,device_type,page_dwell_ms"
)

PRODUCTS = f"""{PRODUCTS_HEADER},in_stock,promoted
P1,Trail runner,shoes,running,Acme,89.90,"Light, grippy shoe",trail|running| light ,2024-03-01,true,
P2,Rain jacket,clothing,,,120,,,2024-03-02T10:00:00+02:00,no,yes
P3,Wool socks,clothing,socks,Knit & Co,7.5,Warm,wool,2024-03-03,,
"""

EVENTS = f"""{EVENTS_HEADER}
e1,u1,P1,view,2025-01-01T10:00:00,s1,mobile,1200
e2,u1,P1,purchase,2025-01-01T10:05:00Z,s1,mobile,
e3,u2,P2,click,2025-01-02T09:00:00+01:00,,,
e4,u2,P9,add_to_cart,2025-01-02,s2,desktop,300
"""


def write(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def count(db: Database, table: str) -> int:
    return int(rows(db, f"SELECT count(*) FROM {table}")[0][0])


def aborted(call: Any, *args: Any, **kwargs: Any) -> ImportReport:
    """Run an import that must be refused; return the report the exception carries."""
    with pytest.raises(ImportAborted) as caught:
        call(*args, **kwargs)
    report = caught.value.report
    assert not report.committed
    return report


def test_good_files_load(db: Database, tmp_path: Path) -> None:
    products = import_products(db, write(tmp_path, "p.csv", PRODUCTS))
    events = import_events(db, write(tmp_path, "e.csv", EVENTS))

    assert (products.rows_read, products.inserted, products.updated, products.error_count) == (
        3, 3, 0, 0
    )
    assert products.committed
    assert (events.rows_read, events.inserted, events.skipped_duplicates) == (4, 4, 0)
    assert events.new_users == 2

    p1, p2, p3 = rows(db, "SELECT * FROM products ORDER BY product_id")
    assert p1.description == "Light, grippy shoe"
    assert p1.tags == ["trail", "running", "light"]
    assert p1.price == Decimal("89.90")
    assert (p1.in_stock, p1.promoted) == (True, False)  # empty promoted: the default
    assert (p2.subcategory, p2.brand, p2.description, p2.tags) == ("", "", "", [])
    assert (p2.in_stock, p2.promoted) == (False, True)
    assert p2.created_at == datetime(2024, 3, 2, 8, 0, tzinfo=UTC)
    assert p3.created_at == datetime(2024, 3, 3, tzinfo=UTC)  # a date is midnight UTC

    stored = {r.event_id: r for r in rows(db, "SELECT * FROM events")}
    assert stored["e1"].price == Decimal("89.90")  # the catalog price at import
    assert stored["e1"].dwell_ms == 1200
    assert stored["e3"].session_id is None
    assert stored["e3"].device_type is None
    assert stored["e4"].price is None  # P9 is not in the catalog
    assert {r.user_id for r in rows(db, "SELECT user_id FROM users")} == {"u1", "u2"}


def test_timestamps_without_zone_are_utc(db: Database, tmp_path: Path) -> None:
    import_events(db, write(tmp_path, "e.csv", EVENTS))
    stored = {r.event_id: r.occurred_at for r in rows(db, "SELECT * FROM events")}
    assert stored["e1"] == datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    assert stored["e2"] == datetime(2025, 1, 1, 10, 5, tzinfo=UTC)
    assert stored["e3"] == datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
    assert stored["e4"] == datetime(2025, 1, 2, tzinfo=UTC)


def test_reimporting_events_adds_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "e.csv", EVENTS)
    import_events(db, path)
    again = import_events(db, path)
    assert again.committed
    assert (again.inserted, again.skipped_duplicates, again.new_users) == (0, 4, 0)
    assert count(db, "events") == 4
    assert not again.warnings or all("different" not in w for w in again.warnings)


def test_stored_event_with_other_values_is_kept_and_flagged(
    db: Database, tmp_path: Path
) -> None:
    import_events(db, write(tmp_path, "e.csv", EVENTS))
    changed = EVENTS.replace("e1,u1,P1,view", "e1,u1,P1,click")
    report = import_events(db, write(tmp_path, "e2.csv", changed))
    assert report.inserted == 0
    assert report.skipped_duplicates == 4
    assert any("1 event(s) reuse an event_id" in w for w in report.warnings)
    assert rows(db, "SELECT event_type FROM events WHERE event_id = 'e1'")[0][0] == "view"


def test_product_reimport_updates_changed_rows_only(db: Database, tmp_path: Path) -> None:
    import_products(db, write(tmp_path, "p.csv", PRODUCTS))
    before = {r.product_id: r.updated_at for r in rows(db, "SELECT * FROM products")}
    # P1 gets a new price; its in_stock column is left out, so the stored value stays.
    changed = f"""{PRODUCTS_HEADER}
P1,Trail runner,shoes,running,Acme,79.00,"Light, grippy shoe",trail|running|light,2024-03-01
P2,Rain jacket,clothing,,,120,,,2024-03-02T08:00:00Z
P4,Cap,clothing,hats,,15,,,2024-04-01
"""
    report = import_products(db, write(tmp_path, "p2.csv", changed))
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)

    after = {r.product_id: r for r in rows(db, "SELECT * FROM products")}
    assert after["P1"].price == Decimal("79.00")
    assert after["P1"].updated_at > before["P1"]
    assert after["P2"].updated_at == before["P2"]
    assert (after["P2"].in_stock, after["P2"].promoted) == (False, True)  # kept
    assert (after["P4"].in_stock, after["P4"].promoted) == (True, False)  # defaults
    assert after["P3"].title == "Wool socks"  # absent from the file: untouched


def test_bad_row_aborts_everything_by_default(db: Database, tmp_path: Path) -> None:
    content = f"""{PRODUCTS_HEADER}
P1,Shoe,shoes,,,10,,,2024-01-01
P2,Bag,bags,,,abc,,,2024-01-01
P3,,hats,,,5,,,2024-01-01
"""
    report = aborted(import_products, db, write(tmp_path, "p.csv", content))
    assert report.rows_read == 3
    assert report.rows_valid == 1
    assert report.error_count == 2
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "price: 'abc' is not a number"),
        (4, "title: is empty"),
    ]
    assert count(db, "products") == 0


def test_bad_event_type_named_in_the_report(db: Database, tmp_path: Path) -> None:
    content = EVENTS + "e5,u3,P1,like,2025-01-03T00:00:00,,,\n"
    report = aborted(import_events, db, write(tmp_path, "e.csv", content))
    assert [(e.line, e.reason) for e in report.errors] == [
        (6, "event_type: 'like' is not one of view, click, add_to_cart, purchase, return, "
            "dislike, hide")
    ]
    assert count(db, "events") == 0
    assert count(db, "users") == 0


def test_skip_invalid_loads_the_good_rows(db: Database, tmp_path: Path) -> None:
    content = EVENTS + "e5,u3,P1,view,1970-01-01T00:00:00,,,\ne6,u3,P1,view,2025-01-03,,,-5\n"
    report = import_events(db, write(tmp_path, "e.csv", content), skip_invalid=True)
    assert report.committed
    assert (report.rows_read, report.rows_valid, report.inserted, report.error_count) == (
        6, 4, 4, 2
    )
    assert [e.line for e in report.errors] == [6, 7]
    assert report.errors[0].reason.startswith("timestamp: ")
    assert report.errors[1].reason == "page_dwell_ms: '-5' is negative"
    assert count(db, "events") == 4
    assert count(db, "users") == 2  # u3 had no valid event


def test_missing_columns_refuse_the_file(db: Database, tmp_path: Path) -> None:
    content = "event_id,user_id,event_type,session_id\ne1,u1,view,s1\n"
    report = aborted(import_events, db, write(tmp_path, "e.csv", content), skip_invalid=True)
    assert report.error_count == 1
    error = report.errors[0]
    assert error.line == 1
    assert "missing required column(s): product_id, timestamp, device_type, page_dwell_ms" in (
        error.reason
    )
    assert report.rows_read == 0
    assert count(db, "events") == 0


def test_unknown_column_refuses_the_file_with_a_hint(db: Database, tmp_path: Path) -> None:
    content = f"{PRODUCTS_HEADER},in-stock\nP1,Shoe,shoes,,,10,,,2024-01-01,true\n"
    report = aborted(import_products, db, write(tmp_path, "p.csv", content))
    assert "unknown column(s): 'in-stock' (did you mean 'in_stock'?)" in report.errors[0].reason


def test_quoted_multiline_description_keeps_line_numbers(db: Database, tmp_path: Path) -> None:
    content = (
        f"{PRODUCTS_HEADER}\r\n"
        'P1,Shoe,shoes,,,10,"First line,\r\nsecond line\r\n\r\n'
        'fourth ""quoted"" line",,2024-01-01\r\n'
        "P2,Bag,bags,,,-3,,,2024-01-01\r\n"
        'P3,Hat,hats,,,5,"one\ntwo",,2024-01-01\r\n'
        "P4,Cap,hats,,,5,,,not-a-date\r\n"
    )
    report = aborted(import_products, db, write(tmp_path, "p.csv", content))
    assert [(e.line, e.reason.split(":")[0]) for e in report.errors] == [
        (6, "price"),
        (9, "created_date"),
    ]
    report = import_products(db, write(tmp_path, "p.csv", content), skip_invalid=True)
    description = rows(db, "SELECT description FROM products WHERE product_id = 'P1'")[0][0]
    assert description == 'First line,\r\nsecond line\r\n\r\nfourth "quoted" line'


def test_byte_order_mark_is_accepted(db: Database, tmp_path: Path) -> None:
    report = import_events(db, write(tmp_path, "e.csv", EVENTS, encoding="utf-8-sig"))
    assert report.inserted == 4


def test_trailing_commas_and_blank_rows(db: Database, tmp_path: Path) -> None:
    content = (
        f"{EVENTS_HEADER},\n"
        "e1,u1,P1,view,2025-01-01,,,,\n"
        "\n"
        ",,,,,,,,\n"
        "e2,u1,P1,view,2025-01-01,,,\n"
        "e3,u1,P1,view,2025-01-01,,,,x\n"
    )
    report = import_events(db, write(tmp_path, "e.csv", content), skip_invalid=True)
    assert (report.rows_read, report.inserted) == (3, 2)
    assert [(e.line, e.reason) for e in report.errors] == [
        (6, "has 9 fields, the header has 8")
    ]


def test_line_that_is_not_utf8_is_named(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(
        (PRODUCTS_HEADER + "\nP1,Shoe,shoes,,,10,,,2024-01-01\n").encode()
        + "P2,Café,bags,,,10,,,2024-01-01\n".encode("latin-1")
    )
    report = aborted(import_products, db, path)
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "not valid UTF-8; save the file as UTF-8")
    ]


def test_unknown_products_are_counted(db: Database, tmp_path: Path) -> None:
    import_products(db, write(tmp_path, "p.csv", PRODUCTS))
    content = EVENTS + "e5,u3,P9,view,2025-01-03,,,\ne6,u3,P8,view,2025-01-03,,,\n"
    report = import_events(db, write(tmp_path, "e.csv", content))
    assert report.inserted == 6
    assert (report.unknown_products, report.unknown_product_events) == (2, 3)
    assert report.unknown_product_sample == ("P8", "P9")
    assert any("not in the catalog" in w for w in report.warnings)


def test_repeated_event_in_file_is_skipped_or_refused(db: Database, tmp_path: Path) -> None:
    same = EVENTS + "e1,u1,P1,view,2025-01-01T10:00:00+00:00,s1,mobile,1200\n"
    report = import_events(db, write(tmp_path, "e.csv", same))
    assert (report.rows_valid, report.inserted, report.skipped_duplicates) == (5, 4, 1)

    other = EVENTS + "e9,u1,P1,view,2025-01-01,,,\ne9,u1,P1,view,2025-01-02,,,7\n"
    report = aborted(import_events, db, write(tmp_path, "e2.csv", other))
    assert [(e.line, e.reason) for e in report.errors] == [
        (7, "event_id: 'e9' repeats line 6 with a different timestamp, page_dwell_ms")
    ]
    report = import_events(db, write(tmp_path, "e2.csv", other), skip_invalid=True)
    assert (report.rows_valid, report.inserted, report.error_count) == (5, 1, 1)
    assert rows(db, "SELECT dwell_ms FROM events WHERE event_id = 'e9'")[0][0] is None


def test_repeated_product_in_file_is_refused_on_the_later_line(
    db: Database, tmp_path: Path
) -> None:
    content = f"""{PRODUCTS_HEADER}
P1,Shoe,shoes,,,10,,,2024-01-01
P2,Bag,bags,,,oops,,,2024-01-01
P1,Shoe,shoes,,,10,,,2024-01-01
"""
    report = aborted(import_products, db, write(tmp_path, "p.csv", content))
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "price: 'oops' is not a number"),
        (4, "product_id: 'P1' already appears on line 2"),
    ]
    assert report.rows_valid == 1


def test_import_files_is_one_transaction(db: Database, tmp_path: Path) -> None:
    products = write(tmp_path, "p.csv", PRODUCTS)
    bad_events = write(tmp_path, "e.csv", EVENTS + "e5,,P1,view,2025-01-03,,,\n")
    with pytest.raises(ImportAborted) as caught:
        import_files(db, products, bad_events)
    kinds = [(r.kind, r.error_count, r.committed) for r in caught.value.reports]
    assert kinds == [("products", 0, False), ("events", 1, False)]
    assert caught.value.report.errors[0].reason == "user_id: is empty"
    assert count(db, "products") == 0

    good_events = write(tmp_path, "e.csv", EVENTS)
    reports = import_files(db, products, good_events)
    assert [r.inserted for r in reports] == [3, 4]
    # The events were priced from the products written in the same transaction.
    assert rows(db, "SELECT price FROM events WHERE event_id = 'e2'")[0][0] == Decimal("89.90")


def test_dry_run_writes_nothing(db: Database, tmp_path: Path) -> None:
    report = import_products(db, write(tmp_path, "p.csv", PRODUCTS), dry_run=True)
    assert (report.rows_valid, report.committed) == (3, False)
    assert count(db, "products") == 0


def test_missing_file_and_empty_file_are_refused(db: Database, tmp_path: Path) -> None:
    report = aborted(import_events, db, tmp_path / "nope.csv")
    assert report.errors[0].line == 0
    report = aborted(import_events, db, write(tmp_path, "e.csv", ""))
    assert report.errors[0].reason == "the file is empty; a header line is expected"


def test_progress_is_reported(db: Database, tmp_path: Path) -> None:
    lines = [EVENTS_HEADER] + [
        f"e{i},u{i % 7},P1,view,2025-01-01T00:00:{i % 60:02d},,," for i in range(25_000)
    ]
    path = write(tmp_path, "e.csv", "\n".join(lines) + "\n")
    seen: list[Progress] = []
    report = import_events(db, path, progress=seen.append)
    assert report.inserted == 25_000
    assert [p.rows_read for p in seen] == [10_000, 20_000, 25_000]
    assert seen[-1].bytes_read == seen[-1].bytes_total == path.stat().st_size


def test_a_scraped_feed_with_stray_control_characters_loads_cleaned(
    db: Database, tmp_path: Path
) -> None:
    feed = [PRODUCTS_HEADER]
    for i in range(20):
        title, description, tags = f"Product {i}", f"Line one\nline two of {i}", "tag"
        if i % 4 == 0:  # five rows of twenty carry the junk scrapers leave behind
            title = f"Product\x00 {i}\x1f"
            description = f"Bell\x07 and form feed\x0c of {i}\nkept line"
            tags = "tag|t\x0bag"
        feed.append(f'F{i},{title},Home,,Brand,{10 + i},"{description}",{tags},2024-01-01')
    report = import_products(db, write(tmp_path, "feed.csv", "\n".join(feed) + "\n"))
    assert report.committed and report.inserted == 20 and report.error_count == 0
    assert report.cleaned_rows == 5
    assert "5 with control characters cleaned" in report.summary()
    title, description, tags = rows(
        db, "SELECT title, description, tags FROM products WHERE product_id = 'F0'")[0]
    assert (title, tags) == ("Product 0", ["tag", "t ag"])
    assert description == "Bell  and form feed  of 0\nkept line"


def test_an_id_with_a_control_character_is_still_refused(db: Database, tmp_path: Path) -> None:
    feed = f"{PRODUCTS_HEADER}\nP\x001,Title,Home,,,1,,,2024-01-01\n"
    report = aborted(import_products, db, write(tmp_path, "bad.csv", feed))
    assert report.error_count == 1 and "product_id" in report.errors[0].reason


def test_pseudonymised_import_stores_no_shopper_id(db: Database, tmp_path: Path) -> None:
    from models.pseudonym import mapper
    from models.settings import Settings

    hide = mapper(Settings(pseudonymise_secret="a-secret-of-sixteen+"))
    assert hide is not None
    import_products(db, write(tmp_path, "p.csv", PRODUCTS))
    path = write(tmp_path, "e.csv", EVENTS)
    import_events(db, path, skip_invalid=True, pseudonymise=hide)
    stored = {r[0] for r in rows(db, "SELECT user_id FROM events")}
    assert stored == {hide("u1"), hide("u2")} and not stored & {"u1", "u2"}
    assert {r[0] for r in rows(db, "SELECT user_id FROM users")} == stored
    # The same file again: every event a duplicate, none a conflict.
    again = import_events(db, path, skip_invalid=True, pseudonymise=hide)
    assert again.inserted == 0 and again.skipped_duplicates == 4
    assert not any("different" in w for w in again.warnings)
