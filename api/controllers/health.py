"""Liveness and readiness."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST

from api import schemas
from api.auth import requires
from api.resources import Resources

_WARM_UP_WAIT_SECONDS = 5.0


class HealthController(Controller):
    tags = ["health"]

    @get("/health", sync_to_thread=False)
    def health(self) -> schemas.Health:
        """The process is up."""
        return schemas.Health(status="ok")

    @get("/ready", sync_to_thread=True, responses={503: ResponseSpec(
        schemas.Readiness, generate_examples=False,
        description="Not ready: `missing` says what is not usable yet.")})
    def ready(self, resources: NamedDependency[Resources]) -> Response[schemas.Readiness]:
        """200 only when Postgres, the vector store and a live index are all usable and
        search's encoder and vocabulary are loaded. An
        index past its age still counts as ready (`index_stale` says so): recommendations
        fall back to popularity and keep succeeding."""
        missing: list[str] = []
        # Read only: the server's poller follows the live version (a GET never writes, and
        # a switch's catch-up writes).
        postgres = resources.database.ping()
        if not postgres:
            missing.append("postgres")
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
        # Search needs the encoder and the catalog's words in memory; a server that has just
        # started loads them in the background (seconds), and is not ready before.
        if not resources.warmed.wait(timeout=_WARM_UP_WAIT_SECONDS):
            missing.append("search: still loading the encoder and the catalog's words")
        age = resources.index_age_hours()
        body = schemas.Readiness(
            ready=not missing,
            postgres=postgres,
            vector_store=store_ok,
            index_version=live.version if live else None,
            missing=missing,
            index_age_hours=round(age, 3) if age is not None else None,
            index_stale=resources.index_stale(),
        )
        return Response(body, status_code=200 if not missing else 503)

    # Scraped by Prometheus, not called by clients: not part of the OpenAPI document.
    @get("/metrics", sync_to_thread=False, include_in_schema=False,
         guards=[requires("server")])
    def metrics(self, resources: NamedDependency[Resources]) -> Response[bytes]:
        """Prometheus text: requests and their latency per route and status, lists served
        per strategy, fallbacks per cause, the live index's version, age and staleness, the
        item cache's size, the query-embedding cache's hits and misses."""
        return Response(resources.metrics.render(), media_type=CONTENT_TYPE_LATEST)
