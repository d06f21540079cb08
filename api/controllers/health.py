"""Liveness and readiness."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from api import schemas
from api.resources import Resources


class HealthController(Controller):
    tags = ["health"]

    @get("/health", sync_to_thread=False)
    def health(self) -> schemas.Health:
        """The process is up."""
        return schemas.Health(status="ok")

    @get("/ready", sync_to_thread=True)
    def ready(self, resources: NamedDependency[Resources]) -> Response[schemas.Readiness]:
        """200 only when Postgres, the vector store and a live index are all usable."""
        missing: list[str] = []
        postgres = resources.database.ping()
        if not postgres:
            missing.append("postgres")
        else:
            resources.index.refresh()
        try:
            collections = set(resources.store.list_collections())
            store_ok = True
        except Exception:
            collections, store_ok = set(), False
            missing.append("vector_store")
        live = resources.index.live
        if live is None:
            missing.append("index: no live version (run `lodestar reindex`)")
        elif store_ok and live.items_collection not in collections:
            missing.append(f"index: collection {live.items_collection} is missing")
        body = schemas.Readiness(
            ready=not missing,
            postgres=postgres,
            vector_store=store_ok,
            index_version=live.version if live else None,
            missing=missing,
        )
        return Response(body, status_code=200 if not missing else 503)
