"""`lodestar keys`: made, listed, revoked and used to mint shopper tokens from the command
line, each change in the audit log."""

from __future__ import annotations

import pytest

from api import tokens
from api.cli import main
from models import audit, keys
from models.db import Database


@pytest.fixture
def cli_env(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Database:
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("QDRANT_URL", raising=False)
    return db


def test_keys_from_the_command_line(cli_env: Database, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    assert main(["keys", "create", "--scope", "server", "--name", "backend"]) == 0
    server_key = capsys.readouterr().out.strip()
    parts = keys.split_key(server_key)
    assert parts is not None
    key_id = parts[0]
    assert main(["keys", "create", "--scope", "public"]) == 0
    public_key = capsys.readouterr().out.strip()

    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert key_id in listed and "backend" in listed and parts[1] not in listed

    assert main(["keys", "token", "U42", "--key", server_key, "--ttl", "120"]) == 0
    token = capsys.readouterr().out.strip()
    stored = keys.find(cli_env, key_id)
    assert stored is not None
    claims = tokens.verify(token, stored, max_ttl_seconds=3600)
    assert (claims.user_id, claims.shop_id) == ("U42", "default")
    assert claims.expires_at - 120 == tokens.jwt.decode(
        token, options={"verify_signature": False})["iat"]

    # A public key cannot sign; a revoked key is gone; an unknown one is an error.
    assert main(["keys", "token", "U42", "--key", public_key]) == 2
    assert main(["keys", "revoke", key_id]) == 0
    assert main(["keys", "token", "U42", "--key", server_key]) == 2
    assert main(["keys", "revoke", "nope"]) == 2
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    assert key_id not in capsys.readouterr().out
    assert main(["keys", "list", "--all"]) == 0
    assert key_id in capsys.readouterr().out

    entries = audit.page(cli_env, "default", 50)
    assert [(e.action, e.key_id) for e in entries if e.target == key_id] == [
        ("keys.revoke", audit.CLI_KEY), ("keys.create", audit.CLI_KEY)]


def test_keys_belong_to_the_shop_the_command_names(
    cli_env: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--shop", "acme", "keys", "create", "--scope", "admin"]) == 0
    key = capsys.readouterr().out.strip()
    key_id = keys.split_key(key)[0]  # type: ignore[index]
    assert keys.find(cli_env, key_id).shop_id == "acme"  # type: ignore[union-attr]
    assert main(["keys", "list"]) == 0
    assert key_id not in capsys.readouterr().out
    assert main(["--shop", "acme", "keys", "list"]) == 0
    assert key_id in capsys.readouterr().out
    assert main(["keys", "revoke", key_id]) == 2  # not a key of the default shop
    assert main(["--shop", "Not A Shop!", "keys", "list"]) == 2
    assert main(["keys", "create", "--scope", "public", "--name", "two\nlines"]) == 2
