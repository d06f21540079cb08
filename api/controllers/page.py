"""The demo page: a catalog browser that shows similar items, served at `/`."""

from __future__ import annotations

from importlib import resources as package_files

from litestar import Controller, MediaType, get
from litestar.di import NamedDependency

from api import schemas
from api.controllers.params import LIST_ERRORS
from api.resources import Resources
from api.services import catalog


def _page() -> str:
    return (package_files.files("api") / "static" / "index.html").read_text(encoding="utf-8")


class PageController(Controller):
    include_in_schema = False

    @get("/", media_type=MediaType.HTML, sync_to_thread=False)
    def index(self) -> str:
        return _page()


class CategoryController(Controller):
    path = "/v1/categories"
    tags = ["products"]

    @get("/", sync_to_thread=True, responses=LIST_ERRORS)
    def categories(self, resources: NamedDependency[Resources]) -> schemas.CategoryList:
        """Categories of the catalog with their product counts."""
        return schemas.CategoryList(items=catalog.category_counts(resources.database))
