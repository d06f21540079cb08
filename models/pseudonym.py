"""Optional pseudonymisation: with LODESTAR_PSEUDONYMISE_SECRET set, a shopper id is
replaced by a keyed hash (HMAC-SHA256) before it is stored or looked up, so the database,
the index and their backups never hold the shop's own ids. The same id always maps to the
same pseudonym, so lists, sessions and erasure work unchanged; without the secret the
mapping cannot be recomputed or reversed."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from models.settings import Settings

PREFIX = "ps_"


def pseudonym(secret: str, user_id: str) -> str:
    digest = hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:40]


def stored_user_id(settings: Settings, user_id: str) -> str:
    """The id under which a shopper is stored: the pseudonym, or the id itself."""
    secret = settings.access.pseudonymise_secret
    return pseudonym(secret, user_id) if secret else user_id


def mapper(settings: Settings) -> Callable[[str], str] | None:
    """The mapping to apply to incoming shopper ids, None when ids are stored as given."""
    secret = settings.access.pseudonymise_secret
    if not secret:
        return None
    return lambda user_id: pseudonym(secret, user_id)
