"""Shopper tokens: short-lived JWTs (HS256) that a shop's backend mints for the shopper who
is logged in, so that a browser holding only a `public` key can read that shopper's own
lists and post that shopper's events, and no one else's.

A token is signed with the token secret of a `server` (or `admin`) key, which the backend
derives from its key (`models.keys.token_secret`); its header names that key (`kid`), its
claims the shop, the shopper (`sub`), when it was issued and when it expires.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from models import keys

ALGORITHM = "HS256"


@dataclass(frozen=True)
class ShopperClaims:
    key_id: str
    shop_id: str
    user_id: str
    expires_at: int


class BadToken(ValueError):
    """A token that cannot be trusted; the message says why, without echoing it."""


def mint(key: str, shop_id: str, user_id: str, ttl_seconds: int,
         now: float | None = None) -> str:
    """A shopper token for `user_id`, signed with `key` (a server or admin key)."""
    parts = keys.split_key(key)
    if parts is None:
        raise ValueError("not a Lodestar key (lsk_<id>_<secret>)")
    key_id, secret = parts
    issued = int(now if now is not None else time.time())
    claims = {"sub": user_id, "shop": shop_id, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, keys.token_secret(secret), algorithm=ALGORITHM,
                      headers={"kid": key_id})


def signing_key_id(token: str) -> str:
    """The key id a token names (not yet verified)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        raise BadToken("not a shopper token") from None
    if not isinstance(kid, str) or not keys.is_key_id(kid):
        raise BadToken("the token names no key (kid)")
    return kid


def verify(token: str, signer: keys.StoredKey, max_ttl_seconds: int,
           leeway_seconds: int = 30) -> ShopperClaims:
    """The claims of a token signed by `signer`; BadToken if the signature, the expiry, the
    lifetime or the signer's scope is wrong."""
    if not keys.scope_allows(signer.scope, "server"):
        raise BadToken("shopper tokens are signed with a server or admin key")
    try:
        claims = jwt.decode(token, signer.token_secret, algorithms=[ALGORITHM],
                            leeway=leeway_seconds,
                            options={"require": ["sub", "shop", "iat", "exp"]})
    except jwt.ExpiredSignatureError:
        raise BadToken("the shopper token has expired") from None
    except jwt.PyJWTError:
        raise BadToken("the shopper token's signature or claims are not valid") from None
    sub, shop, iat, exp = claims["sub"], claims["shop"], claims["iat"], claims["exp"]
    if not isinstance(sub, str) or not sub or not isinstance(shop, str):
        raise BadToken("the shopper token's sub and shop must be strings")
    if shop != signer.shop_id:
        raise BadToken("the shopper token names another shop than its key's")
    if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > max_ttl_seconds:
        raise BadToken(f"a shopper token may live at most {max_ttl_seconds} s")
    return ShopperClaims(signer.key_id, shop, sub, exp)
