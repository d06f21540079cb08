"""Admin actions leave an entry in the audit log, however they end."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.exceptions import HTTPException

from api.auth import Caller
from api.resources import Resources
from models import audit

log = logging.getLogger(__name__)


@contextmanager
def audited(resources: Resources, caller: Caller, action: str, target: str = "",
            details: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Run an admin action and record it: `ok`, `refused` (a 4xx, with its code) or
    `failed`. The entry is written right after the action's own transaction; the yielded
    dict adds details the action learns on the way (counts, a job id)."""
    found: dict[str, Any] = dict(details or {})
    try:
        yield found
    except HTTPException as exc:
        outcome: audit.Outcome = "refused" if exc.status_code < 500 else "failed"
        _record(resources, caller, action, target, outcome,
                {**found, "code": getattr(exc, "code", str(exc.status_code))})
        raise
    except Exception as exc:
        _record(resources, caller, action, target, "failed",
                {**found, "error": type(exc).__name__})
        raise
    _record(resources, caller, action, target, "ok", found)


def _record(resources: Resources, caller: Caller, action: str, target: str,
            outcome: audit.Outcome, details: dict[str, Any]) -> None:
    try:
        audit.record(resources.database, caller.shop_id, caller.key_id, action, target,
                     outcome, details)
    except Exception:
        # The action itself is done (or refused); a database that fails now is reported by
        # the next request. Say so in the log rather than hide the action's own answer.
        log.error("could not write the audit entry for %s (%s)", action, outcome,
                  exc_info=True)
