"""Per-shopper lists: personalised recommendations and the home page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get
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
    errors,
    request_id,
)
from api.errors import BadParameter, NotFound
from api.resources import Resources
from api.schemas.events import MAX_DEVICE_TYPE_LENGTH
from api.services import experiments
from api.services.buy_again import buy_again as again
from api.services.erasure import erase_shopper
from api.services.home import home_rows
from api.services.present import present
from api.services.recommend import recommend
from data.parsers import MAX_ID_LENGTH
from models import erasures
from models.pseudonym import stored_user_id

MAX_EXCLUDE = 200
Device = Annotated[str | None, QueryParameter(
    min_length=1, max_length=MAX_DEVICE_TYPE_LENGTH,
    description="The shopper's device type (as events name it, e.g. mobile). A shopper with "
                "no history gets what is popular on it. Default: the device of their newest "
                "event.")]


class ErasureStatus(msgspec.Struct):
    erasure_id: str
    status: str  # done | pending (the server keeps trying)
    requested_at: datetime
    done_at: datetime | None
    attempts: int
    last_error: str | None
    href: str


def _status(info: erasures.ErasureInfo) -> ErasureStatus:
    return ErasureStatus(info.erasure_id, info.status, info.requested_at, info.done_at,
                         info.attempts, info.last_error, f"/v1/erasures/{info.erasure_id}")


class ErasureController(Controller):
    path = "/v1/erasures"
    tags = ["privacy"]
    guards = [requires("server")]

    @get("/{erasure_id:str}", sync_to_thread=True, responses=errors(400, 404, 503))
    def erasure(self, resources: Res, erasure_id: PathId) -> ErasureStatus:
        """Whether an erasure is done: its rows went at once; `pending` while a vector of
        the shopper could not yet be removed from every kept index version."""
        info = erasures.get(resources.database, erasure_id)
        if info is None:
            raise NotFound("erasure", erasure_id)
        return _status(info)


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
        stored = _stored(resources, user_id)
        rid = request_id(resources)
        result, arm = experiments.run_list(
            resources, "recommendations",
            lambda: recommend(resources, stored, limit, filters, session_id=session_id,
                              product_id=product_id, exclude=excluded, device_type=device),
            limit, rid, stored, session_id)
        return schemas.RecommendationResponse(
            user_id=user_id, items=present(result, schemas.RankedItem),
            strategy=result.strategy, model_version=result.version, request_id=rid,
            **experiments.labels(arm))

    @get("/{user_id:str}/buy-again", sync_to_thread=True, responses=LIST_ERRORS)
    def buy_again(self, resources: Res, caller: Who, user_id: PathId,
                  limit: Limit = 10) -> schemas.RecommendationResponse:
        """Products the shopper bought before and is likely to need again now: from each
        product's typical interval between purchases (learnt from every shopper at
        reindex, its category's where it has few) and the shopper's own rhythm and
        recency. Products rarely bought twice never appear, nor ones returned since, out
        of stock, hidden or disliked. `strategy` is `buy_again`, or `frequency_recency`
        when Postgres answers alone. With a public key, only with the shopper's own
        token."""
        check_limit(resources, limit)
        _check_shopper_and_session(caller, resources, user_id, None)
        result = again(resources, _stored(resources, user_id), limit)
        return schemas.RecommendationResponse(
            user_id=user_id, items=present(result, schemas.RankedItem),
            strategy=result.strategy, model_version=result.version,
            request_id=request_id(resources))

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
        """The shopper's home page: "Picked for you", "Buy it again" (when something is
        due), "Because you viewed X" and "Trending in Y" rows, no product twice. With a
        public key, only with the shopper's own token."""
        _check_shopper_and_session(caller, resources, user_id, session_id)
        stored = _stored(resources, user_id)
        rid = request_id(resources)
        home, arm = experiments.run_page(
            resources, "home",
            lambda: home_rows(resources, stored, session_id, per_row, rid, device),
            lambda page: [item.product_id for row in page.rows for item in row.items],
            rid, stored, session_id)
        home.user_id = user_id  # as the caller named them, not as stored
        home.experiment = arm.experiment_id if arm else None
        home.variant = arm.variant if arm else None
        return home

    @delete("/{user_id:str}", status_code=202, sync_to_thread=True,
            guards=[requires("server")], responses=errors(400, 404, 503))
    def erase(self, resources: Res, caller: Who, user_id: PathId) -> ErasureStatus:
        """Erase a shopper (server or admin key): their events, search events, sessions
        and users row go at once, in one transaction; their vectors leave every kept index
        version now or, if one cannot be written yet, as soon as it can (`pending`; follow
        `href`). The next reindex cannot bring them back. Erasing an unknown shopper is
        recorded too and changes nothing."""
        return _status(erase_shopper(resources, caller, _stored(resources, user_id)))


def _check_shopper_and_session(caller: Caller, resources: Resources, user_id: str,
                               session_id: str | None) -> None:
    check_shopper(caller, user_id)
    if session_id is not None:
        check_session(caller, resources.database, session_id, resources.settings)


def _stored(resources: Resources, user_id: str) -> str:
    return stored_user_id(resources.settings, user_id)
