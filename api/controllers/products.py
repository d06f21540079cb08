"""Catalog browsing and similar items."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from api import schemas
from api.audited import audited
from api.auth import requires
from api.controllers.admin import BatchWrite, ProductDeleted, ProductWrite, TooManyProducts
from api.controllers.params import (
    ADMIN_ERRORS,
    FILTERS,
    LIST_ERRORS,
    PRODUCT_ERRORS,
    Filters,
    Id,
    Limit,
    Offset,
    PathId,
    Res,
    Text,
    Who,
    check_limit,
    errors,
    experiment_unit,
    request_id,
)
from api.errors import NotFound
from api.services import catalog, catalog_write, experiments
from api.services.catalog_write import ProductBatch, ProductIn
from api.services.present import present
from api.services.similar import blocked_for, similar_items


class ProductController(Controller):
    path = "/v1/products"
    tags = ["products"]
    guards = [requires("public")]

    @get("/", sync_to_thread=True, responses=LIST_ERRORS)
    def list_products(
        self,
        resources: Res,
        category: Text = None,
        brand: Text = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> schemas.ProductPage:
        """Browse the catalog, optionally by category and brand, in product_id order."""
        check_limit(resources, limit)
        items, total = catalog.list_products(resources.database, category, brand, limit, offset)
        return schemas.ProductPage(items=items, total=total, limit=limit, offset=offset,
                                   request_id=request_id(resources))

    @get("/{product_id:str}", sync_to_thread=True, responses=PRODUCT_ERRORS)
    def get_product(self, resources: Res, product_id: PathId) -> schemas.Product:
        """One product from the catalog."""
        product = catalog.get_product(resources.database, product_id)
        if product is None:
            raise NotFound("product", product_id)
        return product

    @get("/{product_id:str}/similar", sync_to_thread=True, dependencies=FILTERS,
         responses=PRODUCT_ERRORS)
    def similar(self, resources: Res, caller: Who, product_id: PathId, filters: Filters,
                limit: Limit = 10, user_id: Id = None,
                session_id: Id = None) -> schemas.SimilarResponse:
        """Products most like this one by text and by shoppers' behaviour, the product
        itself excluded; filters run inside the vector query. `user_id` or `session_id`
        (optional) say who is looking, for an experiment on this surface; products that
        `user_id` hid or disliked are left out. With a public key, `user_id` needs that
        shopper's token."""
        check_limit(resources, limit)
        stored = experiment_unit(caller, resources, user_id)
        rid = request_id(resources)
        result, arm = experiments.run_list(
            resources, "similar",
            lambda: similar_items(resources, product_id, limit, filters,
                                  blocked_for(resources, user_id)),
            limit, rid, stored, session_id)
        return schemas.SimilarResponse(
            product_id=product_id,
            items=present(result, schemas.ListItem),
            strategy=result.strategy,
            model_version=result.version,
            request_id=rid,
            **experiments.labels(arm),
        )

    # --- admin writes ------------------------------------------------------------------

    @put("/{product_id:str}", guards=[requires("admin")], sync_to_thread=True,
         responses={**ADMIN_ERRORS, 201: ResponseSpec(
             ProductWrite, generate_examples=False, description="Created.")})
    def put_product(self, resources: Res, caller: Who, product_id: PathId,
                    data: JSONBody[ProductIn]) -> Response[ProductWrite]:
        """Create or update one product (admin). It is embedded and written to
        the live index in the same request: similar items and recommendations see it at
        once, and a product without interactions inherits CF factors from its text
        neighbours. 201 when created, 200 when updated."""
        with audited(resources, caller, "product.put", product_id) as details:
            product = catalog_write.validate(data, product_id)
            written = catalog_write.upsert_products(resources, [product])
            details["created"] = written.created[0]
        body = ProductWrite(catalog.to_schema(written.rows[0]), written.created[0],
                            written.indexed_into)
        return Response(body, status_code=201 if written.created[0] else 200)

    @put("/", guards=[requires("admin")], sync_to_thread=True,
         responses={**ADMIN_ERRORS, **errors(413)})
    def put_products(self, resources: Res, caller: Who,
                     data: JSONBody[ProductBatch]) -> BatchWrite:
        """Create or update a batch of products (admin), each naming its `product_id`; all
        are stored or, if one is invalid, none."""
        most = resources.settings.serving.products_batch_max
        with audited(resources, caller, "products.put", details={"products": len(data.products)}
                     ) as details:
            if len(data.products) > most:
                raise TooManyProducts(len(data.products), most)
            products = catalog_write.validate_batch(data.products)
            written = catalog_write.upsert_products(resources, products)
            n_created = details["created"] = sum(written.created)
        return BatchWrite(n_created, len(products) - n_created, written.indexed_into,
                          [catalog.to_schema(r) for r in written.rows])

    @delete("/{product_id:str}", guards=[requires("admin")], status_code=200,
            responses=ADMIN_ERRORS, sync_to_thread=True)
    def delete_product(self, resources: Res, caller: Who, product_id: PathId) -> ProductDeleted:
        """Remove a product from the catalog and the index (admin); its events stay."""
        with audited(resources, caller, "product.delete", product_id):
            removed = catalog_write.delete_product(resources, product_id)
        return ProductDeleted(product_id, removed)
