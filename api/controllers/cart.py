"""Cart complements: what goes with a whole basket."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from api import schemas
from api.auth import check_session, check_shopper, requires
from api.controllers.params import (
    FILTERS,
    PRODUCT_ERRORS,
    Filters,
    Id,
    Limit,
    Res,
    Who,
    check_limit,
    request_id,
)
from api.errors import BadParameter
from api.services.cart import MAX_CART, cart_of, complements, empty_cart
from api.services.present import present
from api.services.similar import blocked_for
from data.parsers import MAX_ID_LENGTH
from models.pseudonym import stored_user_id


class CartController(Controller):
    path = "/v1/cart"
    tags = ["recommendations"]
    guards = [requires("public")]

    @get("/recommendations", sync_to_thread=True, dependencies=FILTERS, responses=PRODUCT_ERRORS)
    def recommendations(
        self,
        resources: Res,
        caller: Who,
        filters: Filters,
        items: Annotated[str | None, QueryParameter(
            max_length=MAX_CART * (MAX_ID_LENGTH + 1),
            description="Comma-separated product ids in the cart.")] = None,
        session_id: Id = None,
        user_id: Id = None,
        limit: Limit = 10,
    ) -> schemas.ListResponse:
        """Complements of the whole cart: products bought with its products (those that go
        with several first), never a second of something it holds (nothing of a
        subcategory already in the cart), topped up with related products of other
        subcategories where co-purchases run short (new products have none). The cart is
        `items`, and with `session_id` what that session added to its cart and has not
        bought. Products `user_id` hid or disliked are left out. In stock unless
        `in_stock=false`. `strategy`: `co_purchase`, `co_purchase+content` or `content`;
        `empty_cart`, with no items, for a session that has nothing in its cart yet.
        With a public key, `user_id` and `session_id` need the shopper's token."""
        check_limit(resources, limit)
        named = [p.strip() for p in (items or "").split(",") if p.strip()]
        if len(named) > MAX_CART:
            raise BadParameter("items", f"at most {MAX_CART} products")
        if any(len(p) > MAX_ID_LENGTH for p in named):
            raise BadParameter("items", f"a product id has at most {MAX_ID_LENGTH} characters")
        if user_id is not None:
            check_shopper(caller, user_id)
        if session_id is not None:
            check_session(caller, resources.database, session_id, resources.settings)
        if not named and session_id is None:
            raise BadParameter("items", "name the cart's products, or a session with a cart")
        cart = cart_of(resources, named, session_id)
        if cart:
            stored = stored_user_id(resources.settings, user_id) if user_id else None
            result = complements(resources, cart, limit, filters,
                                 blocked_for(resources, stored))
        else:
            # A session whose cart is still empty is a shopper who has added nothing yet,
            # not a bad request: nothing goes with it.
            result = empty_cart()
        return schemas.ListResponse(
            items=present(result, schemas.RankedItem), strategy=result.strategy,
            model_version=result.version, request_id=request_id(resources))
