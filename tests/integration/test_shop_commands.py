"""Commands work on the shop `--shop` names and leave the others alone: import, purge."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from api.cli import main
from models.db import Database
from models.tenancy import for_shop

PRODUCTS = """product_id,title,category,subcategory,brand,price,description,tags,created_date
P1,Beta kettle,kitchen,,,30,,,2024-01-01
"""
EVENTS = """event_id,user_id,product_id,event_type,timestamp,session_id,device_type,page_dwell_ms
e1,u1,P1,view,2020-01-01T10:00:00Z,,,
e2,u1,P1,purchase,2099-01-01T10:00:00Z,,,
"""


def counts(db: Database, shop: str) -> tuple[int, int]:
    with for_shop(shop), db.engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM products")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM events")).scalar_one())


def test_import_and_purge_stay_in_their_shop(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(tmp_path))
    (tmp_path / "p.csv").write_text(PRODUCTS)
    (tmp_path / "e.csv").write_text(EVENTS)
    for shop in ("beta", "default"):
        assert main(["--shop", shop, "import", "--products", str(tmp_path / "p.csv"),
                     "--events", str(tmp_path / "e.csv")]) == 0
    assert counts(db, "beta") == (1, 2) and counts(db, "default") == (1, 2)
    assert main(["--shop", "beta", "purge", "--older-than", "365d"]) == 0
    assert counts(db, "beta") == (1, 1)  # the 2020 event is gone
    assert counts(db, "default") == (1, 2)  # untouched
    assert counts(db, "gamma") == (0, 0)  # a shop with nothing sees nothing
