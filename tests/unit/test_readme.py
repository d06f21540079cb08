"""The README is part of the product: every setting and command it must explain is there."""

from pathlib import Path

from api.cli import build_parser
from models.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [name for name, _, _ in Settings.describe() if f"`{name}`" not in README]
    assert missing == []


def test_every_command_is_documented() -> None:
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    missing = [name for name in commands if f"lodestar {name}" not in README]
    assert missing == []


def test_the_shopper_token_example_makes_tokens_the_server_accepts() -> None:
    """The README's example of minting a token in a shop's backend, run as written."""
    from api import tokens
    from models import keys

    block = README.split("```python\n", 1)[1].split("```", 1)[0]
    assert "def shopper_token" in block
    namespace: dict[str, object] = {}
    exec(block, namespace)  # the README's own example
    key = "lsk_0123456789ab_" + "s3cr_et-" * 5
    key_id, secret = keys.split_key(key)  # type: ignore[misc]
    signer = keys.StoredKey(key_id, "acme", "server", keys.secret_hash(secret),
                            keys.token_secret(secret))
    token = namespace["shopper_token"](key, "U42", "acme")  # type: ignore[operator]
    claims = tokens.verify(token, signer, max_ttl_seconds=86_400)
    assert (claims.user_id, claims.shop_id) == ("U42", "acme")
