"""Erasing a shopper: every row that names them goes in one transaction, recorded (without
naming them) in the erasures table and the audit log; then their vectors leave every kept
index version, tried again by the server until done."""

from __future__ import annotations

import logging

from api.auth import Caller
from api.resources import Resources
from indexing.erasure import remove_points, retry_pending
from indexing.vectorstore.port import point_id
from models import audit, erasures
from models.tenancy import for_shop

log = logging.getLogger(__name__)


def erase_shopper(resources: Resources, caller: Caller, user_id: str) -> erasures.ErasureInfo:
    database = resources.database
    point = point_id(user_id)
    with database.engine.begin() as conn:
        erasure_id, deleted = erasures.erase_rows(conn, user_id, point, caller.shop_id)
        audit.add(conn, caller.shop_id, caller.key_id, "user.erase", erasure_id,
                  details={"rows": deleted})
    view = resources.index.view
    if view is not None:
        view.user_vectors.forget(user_id)
    try:
        remove_points(database, resources.store, [point], _live_users(resources))
    except Exception as exc:
        # A collection held elsewhere (a build in another process) or a store that is
        # down: the erasure stays pending and the server tries again.
        erasures.failed_attempt(database, [erasure_id], f"{type(exc).__name__}: {exc}")
        log.warning("erasure %s is pending: the vector store could not be written",
                    erasure_id)
    else:
        erasures.finish(database, [erasure_id])
    info = erasures.get(database, erasure_id)
    assert info is not None
    return info


def finish_pending(resources: Resources) -> int:
    """Try pending erasures again, shop by shop (the server's poller calls this)."""
    done = 0
    for shop_id in resources.shops():
        with for_shop(shop_id):
            done += retry_pending(resources.database, resources.store, _live_users(resources))
    return done


def _live_users(resources: Resources) -> str | None:
    view = resources.index.view
    return view.users if view is not None else None
