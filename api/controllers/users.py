"""Per-shopper lists: personalised recommendations."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api import schemas
from api.controllers.products import Limit, Price, Text, check_limit, request_id
from api.errors import BadParameter
from api.resources import Resources
from api.schemas_events import MAX_DEVICE_TYPE_LENGTH
from api.services.home import home_rows
from api.services.recommend import recommend, to_response
from api.services.similar import ItemFilters

Res = NamedDependency[Resources]
MAX_EXCLUDE = 200
Device = Annotated[str | None, QueryParameter(
    min_length=1, max_length=MAX_DEVICE_TYPE_LENGTH,
    description="The shopper's device type (as events name it, e.g. mobile). A shopper with "
                "no history gets what is popular on it. Default: the device of their newest "
                "event.")]


class UserController(Controller):
    path = "/v1/users"
    tags = ["recommendations"]

    @get("/{user_id:str}/recommendations", sync_to_thread=True)
    def recommendations(
        self,
        resources: Res,
        user_id: FromPath[str],
        limit: Limit = 10,
        session_id: Text = None,
        context: Annotated[str | None, QueryParameter(
            description="Where the list is shown: home, product, cart, search.")] = None,
        product_id: Annotated[str | None, QueryParameter(
            description="The product on the page; steers the list and is excluded.")] = None,
        category: Text = None,
        brand: Text = None,
        min_price: Price = None,
        max_price: Price = None,
        exclude: Annotated[str | None, QueryParameter(
            description="Comma-separated product ids never to show.")] = None,
        device: Device = None,
    ) -> schemas.RecommendationResponse:
        """Recommendations for the shopper, each with the reason it is there and the
        strategy (cold-start route) used. Events posted a moment ago count already."""
        check_limit(resources, limit)
        if context is not None and context not in {"home", "product", "cart", "search"}:
            raise BadParameter("context", "must be one of home, product, cart, search")
        if min_price is not None and max_price is not None and min_price > max_price:
            raise BadParameter("min_price", "must not exceed max_price")
        excluded = frozenset(p.strip() for p in (exclude or "").split(",") if p.strip())
        if len(excluded) > MAX_EXCLUDE:
            raise BadParameter("exclude", f"at most {MAX_EXCLUDE} ids")
        filters = ItemFilters(category=category, brand=brand, min_price=min_price,
                              max_price=max_price)
        rec, version = recommend(resources, user_id, limit, filters, session_id=session_id,
                                 product_id=product_id, exclude=excluded, device_type=device)
        return to_response(user_id, rec, version, request_id())

    @get("/{user_id:str}/home", sync_to_thread=True)
    def home(
        self,
        resources: Res,
        user_id: FromPath[str],
        session_id: Text = None,
        per_row: Annotated[int, QueryParameter(ge=1, le=24, description="Items per row.")] = 8,
        device: Device = None,
    ) -> schemas.HomeResponse:
        """The shopper's home page: "Picked for you", "Because you viewed X" and
        "Trending in Y" rows, no product twice."""
        return home_rows(resources, user_id, session_id, per_row, request_id(), device)
