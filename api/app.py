"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from api.auth import Authenticator, Caller, caller_of, requires
from api.controllers.admin import AdminController
from api.controllers.cart import CartController
from api.controllers.events import EventController
from api.controllers.experiments import ExperimentController
from api.controllers.health import HealthController
from api.controllers.keys import KeyController
from api.controllers.lists import ListsController
from api.controllers.page import CategoryController, DemoAccess, PageController
from api.controllers.products import ProductController
from api.controllers.search import SearchController
from api.controllers.search_events import SearchEventController
from api.controllers.users import ErasureController, UserController
from api.errors import EXCEPTION_HANDLERS
from api.inputs import refuse_unsafe_characters
from api.metrics import request_metrics
from api.ratelimit import limiter_for
from api.resources import Resources
from api.services.erasure import finish_pending
from api.timing import ServerTiming
from models.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, resources: Resources | None = None,
               demo_access: DemoAccess | None = None) -> Litestar:
    """Build the app. Resources open in the lifespan unless handed in (tests share them).
    `demo_access`: the keys `lodestar demo` hands its page."""
    settings = settings or (resources.settings if resources else Settings.from_env())
    holder: dict[str, Resources] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        owned = resources is None
        res = resources if resources is not None else await asyncio.to_thread(
            Resources.open, settings
        )
        holder["resources"] = res
        res.exposures.start()
        poller = asyncio.create_task(_poll_live_index(res, settings.serving.index_poll_seconds))
        # Search embeds queries (and catalog writes embed text): load the encoder and the
        # catalog's words now, not in the first request.
        warm = asyncio.create_task(asyncio.to_thread(res.warm_up))
        warm.add_done_callback(_log_failure)
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            # Lists served under an experiment are written before the process goes.
            await asyncio.to_thread(res.exposures.close)
            if owned:
                await asyncio.to_thread(res.close)

    def provide_resources() -> Resources:
        return holder["resources"]

    def provide_caller(request: Request[Any, Any, Any]) -> Caller:
        return caller_of(request)

    def observe_stages(route: str, parts: dict[str, float]) -> None:
        if "resources" in holder:
            holder["resources"].metrics.observe_stages(route, parts)

    authenticator = Authenticator(settings, lambda: holder["resources"].database)
    limiter = limiter_for(settings, lambda: holder["resources"].database)
    # The schema is open in the embedded profile; in the server profile a key is needed
    # unless LODESTAR_OPENAPI_DOCS says otherwise.
    docs = Router(path="/schema", route_handlers=[], include_in_schema=False,
                  guards=[] if settings.docs_open() else [requires("public")])

    return Litestar(
        route_handlers=[HealthController, ProductController, CategoryController, PageController,
                        EventController, ListsController, UserController, AdminController,
                        KeyController, SearchController, SearchEventController,
                        ErasureController, ExperimentController, CartController],
        dependencies={"resources": Provide(provide_resources, sync_to_thread=False),
                      "caller": Provide(provide_caller, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        before_request=refuse_unsafe_characters,
        # Logging is the command line's to configure (lodestar -v, LODESTAR_LOG_LEVEL); the
        # framework's default would set the root logger to INFO with a format of its own.
        logging_config=None,
        middleware=[request_metrics().middleware,
                    DefineMiddleware(ServerTiming, observe=observe_stages,
                                     send_header=settings.serving.server_timing)],
        openapi_config=OpenAPIConfig(
            title="Lodestar", version="1", path="/schema", openapi_router=docs,
            components=Components(security_schemes={"key": SecurityScheme(
                type="http", scheme="bearer",
                description="An API key (`lsk_...`). With a public key, a shopper's own "
                            "lists and events also need the shopper token in the "
                            "X-Shopper-Token header.")}),
            security=[{"key": []}]),
        state=State({"settings": settings, "authenticator": authenticator, "limiter": limiter,
                     "demo_access": demo_access}),
    )


ERASURE_RETRY_SECONDS = 30.0


async def _poll_live_index(resources: Resources, every: float) -> None:
    """Follow the live version recorded in Postgres, so a reindex run elsewhere is served
    without a restart; and finish erasures whose vectors could not all be removed at once."""
    next_erasure_try = 0.0
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(resources.refresh_every_shop)
        except Exception:
            log.warning("could not check the live index version", exc_info=True)
        if time.monotonic() >= next_erasure_try:
            next_erasure_try = time.monotonic() + ERASURE_RETRY_SECONDS
            try:
                done = await asyncio.to_thread(finish_pending, resources)
            except Exception:
                log.warning("pending erasures could not be finished yet; trying again "
                            "in %.0f s", ERASURE_RETRY_SECONDS)
            else:
                if done:
                    log.info("%d pending erasures finished", done)


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("could not load the encoder or the search vocabulary ahead of requests",
                    exc_info=task.exception())
