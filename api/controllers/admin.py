"""Admin endpoints: background reindex jobs; and what the admin catalog endpoints answer
(those handlers live on ProductController, which owns the /v1/products paths)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency

from api import schemas
from api.audited import audited
from api.auth import Caller, requires
from api.controllers.params import ADMIN_ERRORS, PathId
from api.errors import ApiError, NotFound
from api.resources import Resources
from api.services import jobs as jobs_service
from models import jobs


class ProductWrite(msgspec.Struct):
    product: schemas.Product
    created: bool
    indexed_into: list[str]


class BatchWrite(msgspec.Struct):
    created: int
    updated: int
    indexed_into: list[str]
    products: list[schemas.Product]


class TooManyProducts(ApiError):
    def __init__(self, n: int, most: int) -> None:
        super().__init__(413, "payload_too_large",
                         f"products: {n} in one request, at most {most}", {"most": most})


class ProductDeleted(msgspec.Struct):
    deleted: str
    removed_from: list[str]


class JobStarted(msgspec.Struct):
    job_id: str
    status: str
    href: str


class AdminController(Controller):
    path = "/v1/admin"
    tags = ["admin"]
    guards = [requires("admin")]

    @post("/reindex", status_code=202, sync_to_thread=True, responses=ADMIN_ERRORS)
    def start_reindex(self, resources: NamedDependency[Resources],
                      caller: NamedDependency[Caller]) -> JobStarted:
        """Start a reindex in the background (admin); 409 while one runs. The
        live version keeps serving until the new one is switched in."""
        with audited(resources, caller, "reindex.start") as details:
            job_id = details["job_id"] = jobs_service.start_reindex(resources)
        return JobStarted(job_id, "running", f"/v1/admin/jobs/{job_id}")

    @get("/jobs/{job_id:str}", sync_to_thread=True, responses=ADMIN_ERRORS)
    def job(self, resources: NamedDependency[Resources],
            job_id: PathId) -> jobs.JobInfo:
        """A job's stage, progress, errors and, once done, its result. `lost` when its
        process stopped reporting."""
        info = jobs.get(resources.database, job_id)
        if info is None:
            raise NotFound("job", job_id)
        return info
