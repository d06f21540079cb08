"""Lists with reasons: bought together with a product, and trending."""

from __future__ import annotations

from litestar import Controller, get

from api import schemas
from api.auth import requires
from api.controllers.params import (
    FILTERS,
    LIST_ERRORS,
    PRODUCT_ERRORS,
    Filters,
    Id,
    Limit,
    PathId,
    Res,
    Who,
    check_limit,
    experiment_unit,
    request_id,
)
from api.services import experiments, lists
from api.services.present import present
from api.services.similar import blocked_for


class ListsController(Controller):
    path = "/v1"
    tags = ["lists"]
    dependencies = FILTERS
    guards = [requires("public")]

    @get("/products/{product_id:str}/bought-together", sync_to_thread=True,
         responses=PRODUCT_ERRORS)
    def bought_together(self, resources: Res, caller: Who, product_id: PathId,
                        filters: Filters, limit: Limit = 10, user_id: Id = None,
                        session_id: Id = None) -> schemas.ListResponse:
        """Products often bought with this one, best first, topped up with related items
        of other subcategories when it has too few; only in-stock items unless
        `in_stock=false` (then only out-of-stock ones, as on similar items). `user_id` or
        `session_id` (optional) say who is looking, for an experiment on this surface;
        products that `user_id` hid or disliked are left out. With a public key,
        `user_id` needs that shopper's token."""
        check_limit(resources, limit)
        stored = experiment_unit(caller, resources, user_id)
        rid = request_id(resources)
        result, arm = experiments.run_list(
            resources, "bought-together",
            lambda: lists.bought_together(resources, product_id, limit, filters,
                                          blocked_for(resources, user_id)),
            limit, rid, stored, session_id)
        return schemas.ListResponse(
            items=present(result, schemas.RankedItem),
            strategy=result.strategy,
            model_version=result.version,
            request_id=rid,
            product_id=product_id,
            category=filters.category,
            **experiments.labels(arm),
        )

    @get("/trending", sync_to_thread=True, responses=LIST_ERRORS)
    def trending(self, resources: Res, filters: Filters,
                 limit: Limit = 10) -> schemas.ListResponse:
        """The most popular in-stock products now (time-decayed popularity), at most three
        of one category in the top ten unless a category is asked for. Always in stock:
        `in_stock` is not needed."""
        check_limit(resources, limit)
        result = lists.trending(resources, limit, filters)
        return schemas.ListResponse(
            items=present(result, schemas.RankedItem),
            strategy=result.strategy,
            model_version=result.version,
            request_id=request_id(resources),
            category=filters.category,
        )
