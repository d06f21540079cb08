"""Keys, scopes, shopper tokens and the audit log, through HTTP."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import jwt
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from api import tokens
from api.app import create_app
from api.resources import Resources
from models import keys
from tests.clients import ADMIN_KEY, api_client, bearer

Client = TestClient[Litestar]


@pytest.fixture(scope="module")
def app(resources: Resources) -> Litestar:
    return create_app(resources=resources)


@pytest.fixture(scope="module")
def admin(app: Litestar) -> Iterator[Client]:
    with api_client(app) as c:
        yield c


@pytest.fixture(scope="module")
def anonymous(app: Litestar) -> Iterator[Client]:
    """A client that sends no key unless a test gives one."""
    with TestClient(app=app) as c:
        yield c


@pytest.fixture(scope="module")
def made(admin: Client) -> dict[str, str]:
    """One key of each scope, made through the admin route."""
    out = {}
    for scope in ("public", "server", "admin"):
        response = admin.post("/v1/admin/keys", json={"scope": scope, "name": f"test {scope}"})
        assert response.status_code == 201, response.text
        out[scope] = response.json()["key"]
    return out


def two_shoppers(resources: Resources) -> tuple[str, str]:
    with resources.database.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT user_id FROM events GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2")).all()
    return rows[0][0], rows[1][0]


def token_for(key: str, user_id: str, ttl: int = 600) -> dict[str, str]:
    return {"X-Shopper-Token": tokens.mint(key, "default", user_id, ttl)}


def path_of(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", template)


def test_every_v1_route_needs_a_key(app: Litestar, anonymous: Client) -> None:
    checked = 0
    for route in app.routes:
        if not route.path.startswith("/v1"):
            continue
        for method in sorted(getattr(route, "http_handler_names", set()) or
                             {m for m in route.methods if m not in ("HEAD", "OPTIONS")}):
            if method in ("HEAD", "OPTIONS"):
                continue
            response = anonymous.request(method, path_of(route.path))
            assert response.status_code == 401, (method, route.path, response.text)
            assert response.json()["error"]["code"] == "key_required"
            assert response.headers["www-authenticate"] == "Bearer"
            checked += 1
    assert checked >= 20
    assert anonymous.get("/health").status_code == 200
    assert anonymous.get("/ready").status_code in (200, 503)
    assert anonymous.get("/").status_code == 200  # the demo page
    assert anonymous.get("/schema/openapi.json").status_code == 200  # embedded profile


def test_made_up_wrong_and_revoked_keys_are_refused(
    admin: Client, anonymous: Client, made: dict[str, str]
) -> None:
    for key in ("nonsense", "lsk_000000000000_" + "a" * 43, made["public"][:-1] + "x"):
        response = anonymous.get("/v1/trending", headers=bearer(key))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_key"
    spare = admin.post("/v1/admin/keys", json={"scope": "public"}).json()
    assert anonymous.get("/v1/trending", headers=bearer(spare["key"])).status_code == 200
    revoked = admin.delete(f"/v1/admin/keys/{spare['key_id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    # This process forgets what it cached at once.
    response = anonymous.get("/v1/trending", headers=bearer(spare["key"]))
    assert response.status_code == 401
    listed = admin.get("/v1/admin/keys").json()["items"]
    assert spare["key_id"] not in {k["key_id"] for k in listed}
    assert all("key" not in k and "secret_hash" not in k for k in listed)
    with_revoked = admin.get("/v1/admin/keys?revoked=true").json()["items"]
    assert spare["key_id"] in {k["key_id"] for k in with_revoked}
    assert admin.delete("/v1/admin/keys/nope").status_code == 404


def test_a_key_name_with_control_characters_is_refused(admin: Client) -> None:
    for name in ("bad\u0000name", "two\nlines", "x" * 201):
        response = admin.post("/v1/admin/keys", json={"scope": "public", "name": name})
        assert response.status_code == 400, name
    assert admin.post("/v1/admin/keys", json={"scope": "public", "name": "Café page ✓"}
                      ).status_code == 201


def test_keys_are_stored_as_hashes_only(resources: Resources, made: dict[str, str]) -> None:
    with resources.database.engine.connect() as conn:
        stored = conn.execute(text("SELECT * FROM api_keys")).mappings().all()
    blob = repr([dict(r) for r in stored])
    for key in made.values():
        assert keys.split_key(key)[1] not in blob  # type: ignore[index]


def test_scopes_nest(anonymous: Client, made: dict[str, str], resources: Resources) -> None:
    shopper, _ = two_shoppers(resources)
    body = {"title": "Scoped", "category": "Tests", "price": 3}
    for scope, key in made.items():
        headers = bearer(key)
        assert anonymous.get("/v1/trending", headers=headers).status_code == 200
        recs = anonymous.get(f"/v1/users/{shopper}/recommendations", headers=headers)
        assert recs.status_code == (403 if scope == "public" else 200)
        write = anonymous.put("/v1/products/SCOPED-1", json=body, headers=headers)
        assert write.status_code == (200 if scope == "admin" else 403) or (
            scope == "admin" and write.status_code == 201)
        if scope != "admin":
            error = write.json()["error"]
            assert error["code"] == "insufficient_scope"
            assert error["details"] == {"needed": "admin", "held": scope}
        metrics = anonymous.get("/metrics", headers=headers)
        assert metrics.status_code == (403 if scope == "public" else 200)
    assert anonymous.get("/metrics").status_code == 401


def test_the_bootstrap_key_works_as_bearer_and_as_x_admin_key(anonymous: Client) -> None:
    assert anonymous.get("/v1/admin/keys", headers=bearer(ADMIN_KEY)).status_code == 200
    assert anonymous.get("/v1/admin/keys", headers={"X-Admin-Key": ADMIN_KEY}).status_code == 200
    wrong = anonymous.get("/v1/admin/keys", headers={"X-Admin-Key": "wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_key"


def test_a_public_key_reads_a_shoppers_lists_only_with_their_token(
    anonymous: Client, made: dict[str, str], resources: Resources
) -> None:
    alice, bob = two_shoppers(resources)
    public = bearer(made["public"])
    for path in (f"/v1/users/{alice}/recommendations", f"/v1/users/{alice}/home",
                 f"/v1/search?q=shirt&user_id={alice}"):
        missing = anonymous.get(path, headers=public)
        assert missing.status_code == 403, path
        assert missing.json()["error"]["code"] == "shopper_token_required"
        own = anonymous.get(path, headers={**public, **token_for(made["server"], alice)})
        assert own.status_code == 200, (path, own.text)
        other = anonymous.get(path, headers={**public, **token_for(made["server"], bob)})
        assert other.status_code == 403
        assert other.json()["error"]["code"] == "wrong_shopper"
    # Anonymous search needs no token.
    assert anonymous.get("/v1/search?q=shirt", headers=public).status_code == 200


def test_bad_shopper_tokens_are_refused(
    admin: Client, anonymous: Client, made: dict[str, str], resources: Resources
) -> None:
    alice, _ = two_shoppers(resources)
    public = bearer(made["public"])
    path = f"/v1/users/{alice}/recommendations"
    now = time.time()
    secret = keys.token_secret_of_key(made["server"])
    assert secret is not None
    kid = keys.split_key(made["server"])[0]  # type: ignore[index]
    cases = {
        "expired": tokens.mint(made["server"], "default", alice, 60, now=now - 3600),
        "signed by a public key": tokens.mint(made["public"], "default", alice, 60),
        "too long-lived": tokens.mint(made["server"], "default", alice, 10 * 86_400),
        "another shop": tokens.mint(made["server"], "elsewhere", alice, 60),
        "tampered": tokens.mint(made["server"], "default", alice, 60)[:-2] + "xx",
        "not a token": "hello",
        "unsigned": jwt.encode({"sub": alice, "shop": "default", "iat": int(now),
                                "exp": int(now) + 60}, "", algorithm="none",
                               headers={"kid": kid}),
        "no expiry": jwt.encode({"sub": alice, "shop": "default", "iat": int(now)}, secret,
                                algorithm="HS256", headers={"kid": kid}),
        "a NUL for a key id": jwt.encode({"sub": alice, "shop": "default", "iat": int(now),
                                          "exp": int(now) + 60}, secret, algorithm="HS256",
                                         headers={"kid": "a\u0000b"}),
    }
    for why, token in cases.items():
        response = anonymous.get(path, headers={**public, "X-Shopper-Token": token})
        assert response.status_code == 401, why
        assert response.json()["error"]["code"] == "invalid_shopper_token", why
    # A token dies with the key that signed it.
    signer = admin.post("/v1/admin/keys", json={"scope": "server"}).json()
    token = token_for(signer["key"], alice)
    assert anonymous.get(path, headers={**public, **token}).status_code == 200
    admin.delete(f"/v1/admin/keys/{signer['key_id']}")
    assert anonymous.get(path, headers={**public, **token}).status_code == 401


def test_a_public_key_posts_only_its_shoppers_events(
    anonymous: Client, made: dict[str, str], resources: Resources
) -> None:
    alice, bob = two_shoppers(resources)
    product = resources.database.engine.connect().execute(
        text("SELECT product_id FROM products ORDER BY 1 LIMIT 1")).scalar()
    public = {**bearer(made["public"]), **token_for(made["server"], alice)}

    def event(user: str, session: str | None = None) -> dict[str, object]:
        return {"event_id": uuid.uuid4().hex, "user_id": user, "product_id": product,
                "event_type": "purchase", "occurred_at": datetime.now(UTC).isoformat(),
                "session_id": session}

    forged = event(bob)
    mixed = anonymous.post("/v1/events", headers=public,
                           json={"events": [event(alice), forged]})
    assert mixed.status_code == 403 and mixed.json()["error"]["code"] == "wrong_shopper"
    assert anonymous.post("/v1/events", headers=bearer(made["public"]),
                          json=event(alice)).status_code == 403  # no token
    with resources.database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events WHERE event_id = :e"),
                            {"e": forged["event_id"]}).scalar() == 0
    # A session is bound to the shopper who started it.
    bobs_session = f"s-{uuid.uuid4().hex}"
    server = bearer(made["server"])
    assert anonymous.post("/v1/events", headers=server,
                          json=event(bob, bobs_session)).status_code == 201
    stolen = anonymous.post("/v1/events", headers=public, json=event(alice, bobs_session))
    assert stolen.status_code == 403
    assert stolen.json()["error"]["code"] == "session_of_another_shopper"
    peek = anonymous.get(f"/v1/users/{alice}/recommendations?session_id={bobs_session}",
                         headers=public)
    assert peek.status_code == 403
    assert anonymous.get(f"/v1/search?q=shirt&session_id={bobs_session}",
                         headers=public).status_code == 403
    own_session = f"s-{uuid.uuid4().hex}"
    assert anonymous.post("/v1/events", headers=public,
                          json=event(alice, own_session)).status_code == 201
    assert anonymous.get(f"/v1/users/{alice}/recommendations?session_id={own_session}",
                         headers=public).status_code == 200
    # The shop's backend (server scope) may read any session.
    assert anonymous.get(f"/v1/users/{alice}/recommendations?session_id={bobs_session}",
                         headers=server).status_code == 200


def test_admin_actions_are_in_the_audit_log(
    admin: Client, anonymous: Client, made: dict[str, str]
) -> None:
    made_key = admin.post("/v1/admin/keys", json={"scope": "public", "name": "audited"}).json()
    admin.delete(f"/v1/admin/keys/{made_key['key_id']}")
    body = {"title": "Audited lamp", "category": "Tests", "price": 9}
    assert admin.put("/v1/products/AUDIT-1", json=body).status_code == 201
    assert admin.put("/v1/products", json={"products": [{**body, "product_id": "AUDIT-2"}]}
                     ).status_code == 200
    assert admin.delete("/v1/products/AUDIT-1").status_code == 200
    assert admin.delete("/v1/products/AUDIT-1").status_code == 404  # refused: gone
    other_admin = bearer(made["admin"])
    assert anonymous.delete("/v1/products/AUDIT-2", headers=other_admin).status_code == 200
    assert anonymous.post("/v1/admin/reindex", headers=bearer(made["server"])).status_code == 403

    entries = admin.get("/v1/admin/audit?limit=500").json()["items"]
    seen = [(e["action"], e["target"], e["outcome"], e["key_id"]) for e in entries]
    admin_id = keys.split_key(made["admin"])[0]  # type: ignore[index]
    for expected in [
        ("keys.create", "", "ok", "bootstrap"),
        ("keys.revoke", made_key["key_id"], "ok", "bootstrap"),
        ("product.put", "AUDIT-1", "ok", "bootstrap"),
        ("products.put", "", "ok", "bootstrap"),
        ("product.delete", "AUDIT-1", "ok", "bootstrap"),
        ("product.delete", "AUDIT-1", "refused", "bootstrap"),
        ("product.delete", "AUDIT-2", "ok", admin_id),
        ("admin.denied", "POST /v1/admin/reindex", "refused",
         keys.split_key(made["server"])[0]),  # type: ignore[index]
    ]:
        assert expected in seen, expected
    created = next(e for e in entries if e["action"] == "keys.create"
                   and e["details"].get("key_id") == made_key["key_id"])
    assert created["details"]["scope"] == "public"
    assert "key" not in created["details"]
    refused = next(e for e in entries if e["outcome"] == "refused"
                   and e["action"] == "product.delete")
    assert refused["details"]["code"] == "not_found"
    # Newest first, paged by entry id.
    ids = [e["entry_id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    first = admin.get("/v1/admin/audit?limit=2").json()
    assert len(first["items"]) == 2 and first["next_before"] == first["items"][-1]["entry_id"]
    second = admin.get(f"/v1/admin/audit?limit=2&before={first['next_before']}").json()
    assert second["items"][0]["entry_id"] < first["next_before"]
    only = admin.get("/v1/admin/audit?action=keys.revoke").json()["items"]
    assert only and {e["action"] for e in only} == {"keys.revoke"}


def test_docs_need_a_key_in_the_server_profile(resources: Resources) -> None:
    server = resources.settings.replace(database_url="postgresql+psycopg://elsewhere/db")
    with TestClient(app=create_app(settings=server, resources=resources)) as c:
        assert c.get("/schema/openapi.json").status_code == 401
        assert c.get("/schema/openapi.json", headers=bearer(ADMIN_KEY)).status_code == 200
    opened = server.replace(openapi_docs=True)
    with TestClient(app=create_app(settings=opened, resources=resources)) as c:
        assert c.get("/schema/openapi.json").status_code == 200
