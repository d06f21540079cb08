"""The demo page: a catalog browser that shows similar items, served at `/`; and, in
`lodestar demo` only, the shop backend's part of minting shopper tokens for it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api import schemas, tokens
from api.auth import requires
from api.controllers.params import LIST_ERRORS
from api.errors import NotFound
from api.resources import Resources
from api.services import catalog
from data.parsers import MAX_ID_LENGTH
from models.tenancy import current_shop

KEY_PLACEHOLDER = "__LODESTAR_PUBLIC_KEY__"


@dataclass(frozen=True)
class DemoAccess:
    """What `lodestar demo` hands its page: a public key for the browser, and the server
    key with which it plays the shop's backend, minting tokens for the shopper picked."""

    public_key: str
    server_key: str
    token_ttl_seconds: int


class ShopperToken(msgspec.Struct):
    token: str
    expires_at: int


def _page() -> str:
    return (package_files.files("api") / "static" / "index.html").read_text(encoding="utf-8")


def _demo(request: Request[Any, Any, Any]) -> DemoAccess | None:
    found = request.app.state.get("demo_access")
    return found if isinstance(found, DemoAccess) else None


class PageController(Controller):
    include_in_schema = False

    @get("/", media_type=MediaType.HTML, sync_to_thread=False)
    def index(self, request: Request[Any, Any, Any]) -> str:
        """The page; with the demo's public key in it when the demo serves it (a public
        key is meant for browsers), else the page asks for one."""
        demo = _demo(request)
        return _page().replace(KEY_PLACEHOLDER, demo.public_key if demo else "")

    @get("/demo/shopper-token", sync_to_thread=False)
    def shopper_token(self, request: Request[Any, Any, Any], user_id: Annotated[
            str, QueryParameter(min_length=1, max_length=MAX_ID_LENGTH)]) -> ShopperToken:
        """In `lodestar demo` only: a token for any shopper the page picks, as a shop's
        backend mints one for the shopper who logged in. 404 elsewhere."""
        demo = _demo(request)
        if demo is None:
            raise NotFound("route", "/demo/shopper-token")
        issued = int(time.time())
        token = tokens.mint(demo.server_key, current_shop(), user_id, demo.token_ttl_seconds,
                            now=issued)
        return ShopperToken(token, issued + demo.token_ttl_seconds)


class CategoryController(Controller):
    path = "/v1/categories"
    tags = ["products"]
    guards = [requires("public")]

    @get("/", sync_to_thread=True, responses=LIST_ERRORS)
    def categories(self, resources: NamedDependency[Resources]) -> schemas.CategoryList:
        """Categories of the catalog with their product counts."""
        return schemas.CategoryList(items=catalog.category_counts(resources.database))
