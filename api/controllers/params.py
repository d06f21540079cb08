"""Query parameters that several endpoints share, and the one filter dependency of every
list endpoint."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter

from api import schemas
from api.auth import Caller, check_shopper
from api.errors import BadParameter
from api.inputs import MAX_URL_BYTES
from api.resources import Resources
from data.parsers import MAX_ID_LENGTH, MAX_LABEL_LENGTH
from models.pseudonym import stored_user_id
from retrieval.filters import ItemFilters

Res = NamedDependency[Resources]
Who = NamedDependency[Caller]
Limit = Annotated[int, QueryParameter(ge=1, description="How many items to return.")]
Price = Annotated[float | None, QueryParameter(ge=0, description="Price bound, inclusive.")]
# Ids and labels are bounded here; api.inputs refuses control characters in any of them.
PathId = Annotated[str, PathParameter(min_length=1, max_length=MAX_ID_LENGTH)]
Id = Annotated[str | None, QueryParameter(min_length=1, max_length=MAX_ID_LENGTH)]
Text = Annotated[str | None, QueryParameter(max_length=MAX_LABEL_LENGTH)]
MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Items to skip.")]


_ERROR_MEANINGS = {
    400: "Bad input: the message names the parameter at fault (`invalid_parameter`, ...).",
    401: "No key, or one that is unknown or revoked (`key_required`, `invalid_key`), or a "
         "shopper token that is not valid (`invalid_shopper_token`).",
    403: "The key's scope is too low (`insufficient_scope`), or a public key without the "
         "shopper token of this shopper or session (`shopper_token_required`, "
         "`wrong_shopper`, `session_of_another_shopper`).",
    404: "No such product (or job).",
    409: "A conflict with the stored state (a reindex already running, ...).",
    413: "More than the endpoint takes in one request.",
    429: "Over a rate limit (`rate_limited`, with Retry-After).",
    414: f"The URL (path and query) is longer than {MAX_URL_BYTES:,} bytes (`uri_too_long`).",
    503: "Postgres does not answer (`database_unavailable`, with Retry-After).",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error answers a handler documents, all in the one envelope. Every handler may
    answer 401 and 403 (every /v1 route needs a key), 414 (see api.inputs) and 429."""
    return {status: ResponseSpec(schemas.ErrorResponse, generate_examples=False,
                                 description=_ERROR_MEANINGS[status])
            for status in sorted({*statuses, 401, 403, 414, 429})}


LIST_ERRORS = errors(400, 503)
PRODUCT_ERRORS = errors(400, 404, 503)
ADMIN_ERRORS = errors(400, 404, 409, 503)


def request_id(resources: Resources) -> str:
    """The id a list response carries, for impressions and events to refer to: signed, so
    that an event can only name a request this deployment answered."""
    return resources.request_ids.new()


def experiment_unit(caller: Caller, resources: Resources, user_id: str | None) -> str | None:
    """The stored id of the shopper a product page names for its experiment (a public key
    needs their token: an exposure logged under another shopper would take their clicks).
    A session id needs no token here: it is only an assignment unit."""
    if user_id is None:
        return None
    check_shopper(caller, user_id)
    return stored_user_id(resources.settings, user_id)


def check_limit(resources: Resources, limit: int) -> None:
    most = resources.settings.serving.max_limit
    if limit > most:
        raise BadParameter("limit", f"must be at most {most}")


def item_filters(
    category: Text = None,
    subcategory: Text = None,
    brand: Text = None,
    min_price: Price = None,
    max_price: Price = None,
    in_stock: Annotated[bool | None, QueryParameter(
        description="true: only products in stock; false: only those out of stock.")] = None,
) -> ItemFilters:
    """The filters of a list request, all run inside the retrievers' queries."""
    try:
        return ItemFilters(category, subcategory, brand, min_price, max_price, in_stock)
    except ValueError:
        raise BadParameter("min_price", "must not exceed max_price") from None


Filters = NamedDependency[ItemFilters]
FILTERS = {"filters": Provide(item_filters, sync_to_thread=False)}
