"""A server that switches to a new version brings it level with catalog writes that its
build, in another process, could not reach."""

from __future__ import annotations

from sqlalchemy import text

from api.resources import Resources
from indexing.pipeline import reindex
from indexing.vectorstore import open_vector_store
from indexing.vectorstore.port import point_id


def test_a_switch_indexes_writes_and_deletions_the_build_missed(resources: Resources) -> None:
    with resources.database.engine.connect() as conn:
        doomed = str(conn.execute(text("SELECT product_id FROM products ORDER BY 1 LIMIT 1"))
                     .scalar())
    built = reindex(resources.database, resources.store, resources.settings,
                    resources.encoder())
    # Written and deleted after the build read the catalog, where it could not see them.
    with resources.database.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO products (product_id, title, category, price, created_at, updated_at) "
            "VALUES ('LATE-1', 'Reading lamp, late addition', 'Lighting', 25, now(), now())"))
        conn.execute(text("DELETE FROM products WHERE product_id = :p"), {"p": doomed})
        conn.execute(text("INSERT INTO deleted_products (product_id) VALUES (:p)"),
                     {"p": doomed})

    def present() -> set[int]:
        return {r.id for r in resources.store.retrieve(
            built.items_collection, [point_id("LATE-1"), point_id(doomed)])}

    assert present() == {point_id(doomed)}
    assert resources.refresh_index()
    assert resources.index.live is not None and resources.index.live.version == built.version
    assert present() == {point_id("LATE-1")}


def test_a_switching_server_lets_go_of_the_version_it_served(resources: Resources) -> None:
    """The embedded engine opens a shard in one process at a time: a retired version the
    server still held could not be dropped by a reindex elsewhere, and its files stayed."""
    resources.refresh_index()
    served = resources.index.live
    assert served is not None
    resources.store.retrieve(served.items_collection, [1])  # the server has it open
    builder = open_vector_store(resources.settings)  # a reindex elsewhere, on its own handle
    try:
        keep_one = resources.settings.replace(versions_to_keep=1)
        reindex(resources.database, builder, keep_one, resources.encoder())
        assert served.items_collection in builder.list_collections()  # held: not dropped
        assert resources.refresh_index()  # the server follows, and lets the old one go
        reindex(resources.database, builder, keep_one, resources.encoder())
        assert served.items_collection not in builder.list_collections()
    finally:
        builder.close()
        resources.refresh_index()
