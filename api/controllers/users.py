"""Per-shopper lists: personalised recommendations and the home page."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from api import schemas
from api.auth import Caller, check_session, check_shopper, requires
from api.controllers.params import (
    FILTERS,
    LIST_ERRORS,
    Filters,
    Id,
    Limit,
    PathId,
    Res,
    Who,
    check_limit,
    request_id,
)
from api.errors import BadParameter
from api.resources import Resources
from api.schemas.events import MAX_DEVICE_TYPE_LENGTH
from api.services.home import home_rows
from api.services.present import present
from api.services.recommend import recommend
from data.parsers import MAX_ID_LENGTH

MAX_EXCLUDE = 200
Device = Annotated[str | None, QueryParameter(
    min_length=1, max_length=MAX_DEVICE_TYPE_LENGTH,
    description="The shopper's device type (as events name it, e.g. mobile). A shopper with "
                "no history gets what is popular on it. Default: the device of their newest "
                "event.")]


class UserController(Controller):
    path = "/v1/users"
    tags = ["recommendations"]
    guards = [requires("public")]

    @get("/{user_id:str}/recommendations", sync_to_thread=True, dependencies=FILTERS,
         responses=LIST_ERRORS)
    def recommendations(
        self,
        resources: Res,
        caller: Who,
        user_id: PathId,
        filters: Filters,
        limit: Limit = 10,
        session_id: Id = None,
        product_id: Annotated[str | None, QueryParameter(
            min_length=1, max_length=MAX_ID_LENGTH,
            description="The product on the page; steers the list and is excluded.")] = None,
        exclude: Annotated[str | None, QueryParameter(
            max_length=MAX_EXCLUDE * (MAX_ID_LENGTH + 1),
            description="Comma-separated product ids never to show.")] = None,
        device: Device = None,
    ) -> schemas.RecommendationResponse:
        """Recommendations for the shopper, each with the reason it is there and the
        strategy (cold-start route) used. Events posted a moment ago count already. Only
        products in stock; with `category`, a shopper with no history gets that category's
        popular products. With a public key, only with the shopper's own token."""
        check_limit(resources, limit)
        _check_shopper_and_session(caller, resources, user_id, session_id)
        excluded = frozenset(p.strip() for p in (exclude or "").split(",") if p.strip())
        if len(excluded) > MAX_EXCLUDE:
            raise BadParameter("exclude", f"at most {MAX_EXCLUDE} ids")
        result = recommend(resources, user_id, limit, filters, session_id=session_id,
                           product_id=product_id, exclude=excluded, device_type=device)
        return schemas.RecommendationResponse(
            user_id=user_id, items=present(result, schemas.RankedItem),
            strategy=result.strategy, model_version=result.version, request_id=request_id())

    @get("/{user_id:str}/home", sync_to_thread=True, responses=LIST_ERRORS)
    def home(
        self,
        resources: Res,
        caller: Who,
        user_id: PathId,
        session_id: Id = None,
        per_row: Annotated[int, QueryParameter(ge=1, le=24, description="Items per row.")] = 8,
        device: Device = None,
    ) -> schemas.HomeResponse:
        """The shopper's home page: "Picked for you", "Because you viewed X" and
        "Trending in Y" rows, no product twice. With a public key, only with the
        shopper's own token."""
        _check_shopper_and_session(caller, resources, user_id, session_id)
        return home_rows(resources, user_id, session_id, per_row, request_id(), device)


def _check_shopper_and_session(caller: Caller, resources: Resources, user_id: str,
                               session_id: str | None) -> None:
    check_shopper(caller, user_id)
    if session_id is not None:
        check_session(caller, resources.database, session_id)
