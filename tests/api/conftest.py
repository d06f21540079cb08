"""An app over a reindexed tiny shop, shared by the API tests of one module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.resources import Resources
from indexing.encoder import SentenceEncoder
from indexing.pipeline import reindex
from indexing.vectorstore import open_vector_store
from models.db import Database
from models.settings import Settings
from retrieval.live_index import LiveIndex
from tests.clients import api_client
from tests.conftest import empty_tables
from tests.shop import fill_tiny_shop


@pytest.fixture(scope="module")
def resources(
    database: Database, encoder: SentenceEncoder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Resources]:
    empty_tables(database)
    fill_tiny_shop(database)
    settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("api"), als_iterations=5)
    store = open_vector_store(settings)
    reindex(database, store, settings, encoder)
    index = LiveIndex(database, settings.rec.item_cache_items, settings.rec.user_cache)
    res = Resources(settings=settings, database=database, store=store, index=index,
                    encoder=encoder)
    res.index.refresh()
    yield res
    store.close()


@pytest.fixture(scope="module")
def client(resources: Resources) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with api_client(create_app(resources=resources)) as c:
        yield c
