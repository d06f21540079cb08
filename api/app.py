"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from api.controllers.admin import AdminController
from api.controllers.events import EventController
from api.controllers.health import HealthController
from api.controllers.lists import ListsController
from api.controllers.page import CategoryController, PageController
from api.controllers.products import ProductController
from api.controllers.search import SearchController
from api.controllers.search_events import SearchEventController
from api.controllers.users import UserController
from api.errors import EXCEPTION_HANDLERS
from api.inputs import refuse_unsafe_characters
from api.metrics import request_metrics
from api.resources import Resources
from models.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> Litestar:
    """Build the app. Resources open in the lifespan unless handed in (tests share them)."""
    settings = settings or (resources.settings if resources else Settings.from_env())
    holder: dict[str, Resources] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        owned = resources is None
        res = resources if resources is not None else await asyncio.to_thread(
            Resources.open, settings
        )
        holder["resources"] = res
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
            if owned:
                await asyncio.to_thread(res.close)

    def provide_resources() -> Resources:
        return holder["resources"]

    return Litestar(
        route_handlers=[HealthController, ProductController, CategoryController, PageController,
                        EventController, ListsController, UserController, AdminController,
                        SearchController,
                        SearchEventController],
        dependencies={"resources": Provide(provide_resources, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        before_request=refuse_unsafe_characters,
        # Logging is the command line's to configure (lodestar -v, LODESTAR_LOG_LEVEL); the
        # framework's default would set the root logger to INFO with a format of its own.
        logging_config=None,
        middleware=[request_metrics().middleware],
        openapi_config=OpenAPIConfig(title="Lodestar", version="1", path="/schema"),
        state=State({"settings": settings}),
    )


async def _poll_live_index(resources: Resources, every: float) -> None:
    """Follow the live version recorded in Postgres, so a reindex run elsewhere is served
    without a restart."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(resources.refresh_index)
        except Exception:
            log.warning("could not check the live index version", exc_info=True)


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("could not load the encoder or the search vocabulary ahead of requests",
                    exc_info=task.exception())
