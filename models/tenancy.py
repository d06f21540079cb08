"""Which shop a piece of work is for, and the wall that keeps it there.

The code scopes its own queries by shop; as a second wall every transaction the service
opens runs as the role `lodestar_app` with `lodestar.shop` set to the current shop, and
Postgres row-level security (migration 0012) lets that role see and write only that shop's
rows. A query that forgets the shop therefore sees nothing and writes nothing. Migrations
and the test suite's cleanup run as the owner (`as_owner`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

DEFAULT_SHOP = "default"
APP_ROLE = "lodestar_app"
SHOP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_SCOPE_SQL = ("SELECT set_config('lodestar.shop', %s, true), "
              f"set_config('role', '{APP_ROLE}', true)")
_OWNER_SQL = "SELECT set_config('lodestar.shop', %s, true)"

_shop: ContextVar[str] = ContextVar("lodestar_shop", default=DEFAULT_SHOP)
_owner: ContextVar[bool] = ContextVar("lodestar_owner", default=False)


def current_shop() -> str:
    return _shop.get()


@contextmanager
def for_shop(shop_id: str) -> Iterator[None]:
    """Run what follows (and threads started from it with its context) for `shop_id`."""
    if not SHOP_ID.fullmatch(shop_id):
        raise ValueError(f"{shop_id!r} is not a shop id (a-z, 0-9, _ and -, up to 40)")
    token = _shop.set(shop_id)
    try:
        yield
    finally:
        _shop.reset(token)


def set_current_shop(shop_id: str) -> None:
    """Make `shop_id` the shop of the rest of this context (a request's task): no reset,
    since the context ends with the request."""
    _shop.set(shop_id)


@contextmanager
def as_owner() -> Iterator[None]:
    """Run what follows as the tables' owner, outside row-level security (the shop is still
    set, so rows inserted without one land in it): migrations, and the demo generator's
    COPY, which Postgres does not run into a table under row-level security."""
    token = _owner.set(True)
    try:
        yield
    finally:
        _owner.reset(token)


def scope_transaction(dbapi_connection: Any) -> None:
    """Put a transaction that has just begun inside the current shop's wall."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(_OWNER_SQL if _owner.get() else _SCOPE_SQL, (_shop.get(),))
