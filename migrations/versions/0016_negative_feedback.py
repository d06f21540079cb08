"""Negative feedback: events of type `return`, `dislike` and `hide`.

The check on `event_type` takes the three new types. A shopper's hidden and disliked
products are read with every history, at any age, so they get a partial index of their
own: only those events pay for it at insert, and a shopper with a long history is not
scanned for them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OLD_TYPES = ("view", "click", "add_to_cart", "purchase")
NEW_TYPES = (*OLD_TYPES, "return", "dislike", "hide")


def _check(types: tuple[str, ...]) -> str:
    return "event_type IN (" + ", ".join(f"'{t}'" for t in types) + ")"


def upgrade() -> None:
    op.drop_constraint("known_event_type", "events", type_="check")
    op.create_check_constraint("known_event_type", "events", _check(NEW_TYPES))
    op.create_index("ix_events_blocked", "events", ["user_id", "product_id"],
                    postgresql_where="event_type IN ('dislike', 'hide')")


def downgrade() -> None:
    op.drop_index("ix_events_blocked", table_name="events")
    op.execute("DELETE FROM events WHERE event_type IN ('return', 'dislike', 'hide')")
    op.drop_constraint("known_event_type", "events", type_="check")
    op.create_check_constraint("known_event_type", "events", _check(OLD_TYPES))
