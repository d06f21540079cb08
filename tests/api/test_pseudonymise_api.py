"""With LODESTAR_PSEUDONYMISE_SECRET set, the shop's shopper ids never reach the database,
and everything a shopper does still works under the id the shop knows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from api import tokens
from api.app import create_app
from api.resources import Resources
from models import keys
from models.pseudonym import pseudonym
from tests.clients import api_client, bearer

SECRET = "pseudonyms-for-the-test-suite"


def test_shopper_ids_are_stored_as_pseudonyms_only(resources: Resources) -> None:
    settings = resources.settings.replace(pseudonymise_secret=SECRET)
    served = Resources(settings=settings, database=resources.database, store=resources.store,
                       index=resources.index, encoder=resources.encoder())
    shopper = f"alice-{uuid.uuid4().hex[:8]}@example.com"
    session = f"s-{uuid.uuid4().hex}"
    with resources.database.engine.connect() as conn:
        products = conn.execute(text(
            "SELECT product_id FROM products WHERE in_stock ORDER BY 1 LIMIT 3")).scalars().all()
    server_key = keys.create(resources.database, "server").key
    public = {**bearer(keys.create(resources.database, "public").key),
              "X-Shopper-Token": tokens.mint(server_key, "default", shopper, 600)}
    with api_client(create_app(resources=served)) as c:
        for product in products:
            posted = c.post("/v1/events", headers=public, json={
                "event_id": uuid.uuid4().hex, "user_id": shopper, "product_id": product,
                "event_type": "view", "session_id": session,
                "occurred_at": datetime.now(UTC).isoformat()})
            assert posted.status_code == 201, posted.text
        recs = c.get(f"/v1/users/{shopper}/recommendations?session_id={session}",
                     headers=public)
        assert recs.status_code == 200 and recs.json()["user_id"] == shopper
        home = c.get(f"/v1/users/{shopper}/home?session_id={session}", headers=public).json()
        assert home["user_id"] == shopper
        assert any(r["title"].startswith("Because you viewed") for r in home["rows"])
        with resources.database.engine.connect() as conn:
            stored = conn.execute(text("SELECT DISTINCT user_id FROM events WHERE session_id = :s"),
                                  {"s": session}).scalars().all()
            raw = conn.execute(text("SELECT count(*) FROM events WHERE user_id = :u"),
                               {"u": shopper}).scalar_one()
        assert stored == [pseudonym(SECRET, shopper)] and raw == 0
        erased = c.delete(f"/v1/users/{shopper}", headers=bearer(server_key)).json()
        assert erased["status"] == "done"
    with resources.database.engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM events WHERE session_id = :s"),
                            {"s": session}).scalar_one()
    assert left == 0
