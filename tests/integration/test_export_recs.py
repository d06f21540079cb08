"""`lodestar export-recs` over a reindexed tiny shop, real Postgres and the real engine: the
file holds, for the window's shoppers, the lists the API answers; bad arguments are
refused with exit 2; a failed export leaves no file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from api.app import create_app
from api.cli import main
from api.export import ExportOptions, export_recommendations
from api.resources import Resources
from api.services.recommend import recommend
from indexing.encoder import SentenceEncoder
from indexing.pipeline import reindex
from indexing.vectorstore import open_vector_store
from models.db import Database
from models.history import load_histories, load_history, window_start
from models.settings import Settings
from retrieval.filters import ItemFilters
from retrieval.live_index import LiveIndex
from tests.clients import api_client
from tests.conftest import empty_tables
from tests.shop import fill_tiny_shop


@dataclass(frozen=True)
class Shop:
    settings: Settings
    database: Database
    encoder: SentenceEncoder

    def open(self) -> Resources:
        """Resources over the shop's index, as the server holds them. The engine opens a
        shard in one process at a time: close it before the command line opens its own."""
        store = open_vector_store(self.settings)
        index = LiveIndex(self.database, self.settings.rec.item_cache_items,
                          self.settings.rec.user_cache)
        resources = Resources(settings=self.settings, database=self.database, store=store,
                              index=index, encoder=self.encoder)
        resources.index.refresh()
        return resources

    def database_as_of(self) -> datetime:
        with self.database.engine.connect() as conn:
            newest = conn.execute(text("SELECT max(occurred_at) FROM events")).scalar_one()
        assert isinstance(newest, datetime)
        return newest


@pytest.fixture(scope="module")
def shop(database: Database, encoder: SentenceEncoder,
         tmp_path_factory: pytest.TempPathFactory) -> Shop:
    empty_tables(database)
    fill_tiny_shop(database)
    settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("export"), als_iterations=5)
    store = open_vector_store(settings)
    try:
        reindex(database, store, settings, encoder)
    finally:
        store.close()
    return Shop(settings, database, encoder)


@pytest.fixture
def cli(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """`main` runs on the shop's data dir and its Postgres."""
    monkeypatch.setenv("DATABASE_URL", shop.database.url)
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(shop.settings.storage.data_dir))


def active_since(database: Database, age: timedelta) -> list[str]:
    """The shoppers with an event within `age` of the newest event, by id."""
    with database.engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(text(
            "SELECT DISTINCT user_id FROM events WHERE occurred_at > "
            "(SELECT max(occurred_at) FROM events) - CAST(:age AS interval) ORDER BY 1"),
            {"age": f"{int(age.total_seconds())} seconds"})]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_a_page_of_histories_is_what_load_history_reads_shopper_by_shopper(
    shop: Shop,
) -> None:
    shoppers = active_since(shop.database, timedelta(days=3650))
    since = window_start(shop.database_as_of(), 30)
    # A limit below most shoppers' event counts: each shopper's newest 5 and no others.
    batch = load_histories(shop.database, [*shoppers, "NEVER-SEEN"], since, 5)
    for user_id in shoppers:
        assert batch[user_id] == load_history(shop.database, user_id, None, since, 5)
    assert batch["NEVER-SEEN"] == load_history(shop.database, "NEVER-SEEN", None, since, 5)
    assert any(len(h.events) == 5 for h in batch.values())
    assert any(0 < len(h.events) < 5 for h in batch.values())


def test_the_export_holds_the_lists_the_api_answers(shop: Shop, tmp_path: Path) -> None:
    resources = shop.open()
    try:
        out = tmp_path / "recs.jsonl"
        # Pages smaller than the shop, so that paging and the batch history read are used.
        result = export_recommendations(resources, ExportOptions(out=out, limit=10,
                                                                 since=timedelta(days=3650),
                                                                 page_size=40))
        rows = read_jsonl(out)
        with api_client(create_app(resources=resources)) as client:
            for row in rows:
                body = client.get(f"/v1/users/{row['user_id']}/recommendations",
                                  params={"limit": 10}).json()
                assert [i["product_id"] for i in row["items"]] == [
                    i["product_id"] for i in body["items"]], row["user_id"]
                assert [i["reason"] for i in row["items"]] == [
                    i["reason"]["kind"] for i in body["items"]]
                assert row["strategy"] == body["strategy"]
                assert row["model_version"] == body["model_version"]
                service = recommend(resources, row["user_id"], 10, ItemFilters())
                assert [i["product_id"] for i in row["items"]] == service.product_ids
                assert [i["score"] for i in row["items"]] == pytest.approx(
                    [i.score for i in service.items])
    finally:
        resources.store.close()
    assert [r["user_id"] for r in rows] == active_since(shop.database, timedelta(days=3650))
    assert result.shoppers == len(rows) > 100
    # Every route of the tiny shop is in there, not just the popular fallback.
    assert {r["strategy"] for r in rows} >= {"content", "content_knn", "hybrid"}
    assert all(len(r["items"]) == 10 for r in rows)


def test_jsonl_and_parquet_hold_the_same_rows(shop: Shop, cli: None, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    jsonl, parquet = tmp_path / "recs.jsonl", tmp_path / "recs.parquet"
    assert main(["export-recs", "--out", str(jsonl), "--limit", "5", "--shoppers", "30"]) == 0
    assert main(["export-recs", "--out", str(parquet), "--limit", "5",
                 "--shoppers", "30"]) == 0
    printed = capsys.readouterr()
    assert "export-recs" in printed.err  # the progress bar
    assert printed.out.startswith("wrote 30 shoppers' recommendations to ")
    lines, table = read_jsonl(jsonl), pq.read_table(parquet)
    assert table.column_names == ["user_id", "items", "strategy", "model_version",
                                  "generated_at"]
    assert str(table.schema.field("generated_at").type) == "timestamp[us, tz=UTC]"
    records = table.to_pylist()
    with shop.database.engine.connect() as conn:
        live = conn.execute(text(
            "SELECT version FROM index_versions WHERE status = 'live'")).scalar_one()
    assert len(lines) == len(records) == 30
    for line, record in zip(lines, records, strict=True):
        assert set(line) == {"user_id", "items", "strategy", "model_version", "generated_at"}
        assert line["user_id"] == record["user_id"]
        assert line["strategy"] == record["strategy"]
        assert line["model_version"] == record["model_version"] == live
        assert len(line["items"]) == 5
        assert [(i["product_id"], i["reason"]) for i in line["items"]] == [
            (i["product_id"], i["reason"]) for i in record["items"]]
        assert [i["score"] for i in line["items"]] == pytest.approx(
            [i["score"] for i in record["items"]])
    # One time for the whole file.
    assert len({line["generated_at"] for line in lines}) == 1


def test_only_shoppers_active_in_the_window_are_exported(
    shop: Shop, cli: None, tmp_path: Path
) -> None:
    out = tmp_path / "recent.jsonl"
    assert main(["export-recs", "--out", str(out), "--since", "2d"]) == 0
    exported = [r["user_id"] for r in read_jsonl(out)]
    recent = active_since(shop.database, timedelta(days=2))
    assert exported == recent
    assert 0 < len(recent) < len(active_since(shop.database, timedelta(days=3650)))


def test_shoppers_caps_the_export_at_the_first_ids(shop: Shop, cli: None,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "few.jsonl"
    assert main(["export-recs", "--out", str(out), "--since", "3650d",
                 "--shoppers", "7"]) == 0
    assert [r["user_id"] for r in read_jsonl(out)] == active_since(
        shop.database, timedelta(days=3650))[:7]


@pytest.mark.parametrize("args", [
    ["--limit", "0"],
    ["--limit", "100000"],
    ["--shoppers", "0"],
    ["--since", "10s"],
    ["--since", "soon"],
    ["--format", "parquet"],  # the file ends in .jsonl
])
def test_nonsense_is_refused_with_exit_2_in_one_line(
    cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main(["export-recs", "--out", str(tmp_path / "recs.jsonl"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lodestar: ") and "\n" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out", ["missing-dir/recs.jsonl", "recs.csv", "."])
def test_an_output_it_cannot_write_is_refused(
    cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str
) -> None:
    assert main(["export-recs", "--out", str(tmp_path / out)]) == 2
    assert capsys.readouterr().err.startswith("lodestar: --out: ")


def test_a_shop_without_an_index_is_refused_and_writes_nothing(
    cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--shop", "elsewhere", "export-recs", "--out",
                 str(tmp_path / "recs.jsonl")]) == 1
    assert "no live index" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_no_half_file_and_keeps_the_last_one(
    shop: Shop, tmp_path: Path
) -> None:
    out = tmp_path / "recs.parquet"
    out.write_bytes(b"yesterday's export")

    def fail_after_a_page(done: int, total: int) -> None:
        if done > 0:
            raise RuntimeError("disk full")

    resources = shop.open()
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            export_recommendations(resources, ExportOptions(out=out, format="parquet",
                                                            page_size=20),
                                   progress=fail_after_a_page)
    finally:
        resources.store.close()
    assert out.read_bytes() == b"yesterday's export"
    assert leftovers(tmp_path) == []
