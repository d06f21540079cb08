"""`lodestar keys`: create, list and revoke API keys, and mint a shopper token.

Keys are made on the database directly (no server needs to run); each change is written to
the audit log as done from the command line.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from models.settings import Settings
from models.tenancy import current_shop

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(sub: Any) -> None:
    p = sub.add_parser("keys", help="API keys: create, list, revoke; mint a shopper token")
    keys_sub = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    c = keys_sub.add_parser("create", help="make a key and print it (shown this once only)")
    c.add_argument("--scope", choices=("public", "server", "admin"), required=True,
                   help="public: for browsers; server: the shop's backend; admin: operators")
    c.add_argument("--name", default="", help="what the key is for (shown in lists)")
    c.set_defaults(handler=cmd_create)

    ls = keys_sub.add_parser("list", help="list keys (never their secrets)")
    ls.add_argument("--all", action="store_true", help="revoked keys too")
    ls.set_defaults(handler=cmd_list)

    r = keys_sub.add_parser("revoke", help="revoke a key by its id")
    r.add_argument("key_id")
    r.set_defaults(handler=cmd_revoke)

    t = keys_sub.add_parser(
        "token", help="mint a shopper token for USER, signed with a server key, as a shop's "
                      "backend does for the shopper who is logged in")
    t.add_argument("user_id", metavar="USER")
    t.add_argument("--key", default=None,
                   help="the server key to sign with (default: $LODESTAR_SERVER_KEY)")
    t.add_argument("--ttl", type=int, default=None,
                   help="lifetime in seconds (default: LODESTAR_SHOPPER_TOKEN_TTL_SECONDS)")
    t.set_defaults(handler=cmd_token)


def _database(settings: Settings) -> Any:
    from models.db import migrate, open_database

    database = open_database(settings, pool_size=2)
    migrate(database)
    return database


def cmd_create(args: argparse.Namespace, settings: Settings) -> int:
    from api.cli import CliError
    from models import audit, keys

    database = _database(settings)
    try:
        try:
            created = keys.create(database, args.scope, args.name)
        except ValueError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        audit.record(database, created.shop_id, audit.CLI_KEY, "keys.create",
                     created.key_id, details={"scope": args.scope})
    finally:
        database.close()
    print(created.key)
    print(f"key {created.key_id}, scope {created.scope}: keep it now, it cannot be "
          "shown again", file=sys.stderr)
    return EXIT_OK


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from models import keys

    database = _database(settings)
    try:
        rows = keys.list_keys(database, current_shop(), include_revoked=args.all)
    finally:
        database.close()
    if not rows:
        print("no keys yet: `lodestar keys create --scope public|server|admin`")
    for k in rows:
        revoked = f"  revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""
        print(f"{k.key_id}  {k.scope:<6}  shop {k.shop_id}  created "
              f"{k.created_at:%Y-%m-%d %H:%M}  {k.name}{revoked}")
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from api.cli import CliError
    from models import audit, keys

    database = _database(settings)
    try:
        info = keys.revoke(database, args.key_id, current_shop())
        if info is None:
            raise CliError(f"no key {args.key_id!r}", EXIT_USAGE)
        audit.record(database, info.shop_id, audit.CLI_KEY, "keys.revoke", info.key_id)
    finally:
        database.close()
    print(f"key {info.key_id} revoked (running servers stop accepting it within "
          f"{settings.access.key_cache_seconds:g}s)")
    return EXIT_OK


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from api import tokens
    from api.cli import CliError
    from models import keys

    key = args.key or os.environ.get("LODESTAR_SERVER_KEY") or ""
    parts = keys.split_key(key)
    if parts is None:
        raise CliError("give the server key to sign with: --key lsk_... (or "
                       "LODESTAR_SERVER_KEY)", EXIT_USAGE)
    database = _database(settings)
    try:
        stored = keys.find(database, parts[0])
    finally:
        database.close()
    if stored is None or not keys.matches(stored, parts[1]):
        raise CliError("that key is not valid (unknown or revoked)", EXIT_USAGE)
    if not keys.scope_allows(stored.scope, "server"):
        raise CliError("shopper tokens are signed with a server or admin key, not a public "
                       "one", EXIT_USAGE)
    ttl = args.ttl or settings.access.shopper_token_ttl_seconds
    if not 0 < ttl <= settings.access.shopper_token_max_ttl_seconds:
        raise CliError(f"--ttl must be 1..{settings.access.shopper_token_max_ttl_seconds}",
                       EXIT_USAGE)
    print(tokens.mint(key, stored.shop_id, args.user_id, ttl))
    return EXIT_OK
