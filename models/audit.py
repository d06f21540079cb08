"""The audit log: every admin action, who did it (a key id, never a key), where, on what,
when and how it ended. Entries carry no personal data: an erased shopper's entry names
no shopper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from models.db import Database
from models.tables import AuditEntry

Outcome = Literal["ok", "refused", "failed"]
CLI_KEY = "cli"
MAX_TARGET = 500  # actions run from the command line, on the database directly


@dataclass(frozen=True)
class Entry:
    entry_id: int
    at: datetime
    shop_id: str
    key_id: str
    action: str
    target: str
    outcome: str
    details: dict[str, Any]


def add(executor: Session | Connection, shop_id: str, key_id: str, action: str,
        target: str = "", outcome: Outcome = "ok", details: dict[str, Any] | None = None
        ) -> None:
    """Record an action inside the caller's transaction: it is logged if and only if it
    is committed."""
    executor.execute(insert(AuditEntry).values(
        shop_id=shop_id, key_id=key_id, action=action, target=target[:MAX_TARGET],
        outcome=outcome, details=details or {}))


def record(database: Database, shop_id: str, key_id: str, action: str, target: str = "",
           outcome: Outcome = "ok", details: dict[str, Any] | None = None) -> None:
    """Record an action in a transaction of its own (a refusal, a failure, a job)."""
    with database.session() as session:
        add(session, shop_id, key_id, action, target, outcome, details)


def page(database: Database, shop_id: str, limit: int, before: int | None = None,
         action: str | None = None) -> list[Entry]:
    """The newest entries of a shop first; `before` (an entry id) pages further back."""
    query = (select(AuditEntry).where(AuditEntry.shop_id == shop_id)
             .order_by(AuditEntry.entry_id.desc()).limit(limit))
    if before is not None:
        query = query.where(AuditEntry.entry_id < before)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    with database.session() as session:
        return [Entry(r.entry_id, r.at, r.shop_id, r.key_id, r.action, r.target, r.outcome,
                      r.details) for r in session.scalars(query)]
