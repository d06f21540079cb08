"""The vector store contract: one suite, every adapter.

Each test runs against the embedded engine (qdrant-edge in a temporary directory), against
qdrant-client's local mode, and against a real Qdrant server when `QDRANT_URL` is set. The
few tests at the end cover what only the embedded engine has to do: share a data dir with
other processes.
"""

from __future__ import annotations

import select
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from indexing.vectorstore import (
    CollectionSpec,
    Distance,
    Filter,
    PayloadType,
    Point,
    Query,
    Range,
    VectorSpec,
    VectorStore,
    VectorStoreError,
    client,
    edge,
    open_vector_store,
)
from indexing.vectorstore.client import ClientVectorStore
from indexing.vectorstore.edge import EdgeVectorStore
from models.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER = Settings.from_env()

SPEC = CollectionSpec(
    vectors={"text": VectorSpec(4, Distance.COSINE), "cf": VectorSpec(4, Distance.DOT)},
    indexes={
        "category": PayloadType.KEYWORD,
        "tags": PayloadType.KEYWORD,
        "price": PayloadType.FLOAT,
        "stock": PayloadType.INTEGER,
        "in_stock": PayloadType.BOOL,
    },
)


def vec(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float32)


def item(
    pid: int, category: str = "shoes", price: float = 10.0, in_stock: bool = True,
    tags: tuple[str, ...] = (), stock: int = 1, text: np.ndarray | None = None,
    cf: np.ndarray | None = None,
) -> Point:
    vectors = {"text": vec(1, 0, 0, 0) if text is None else text}
    if cf is not None:
        vectors["cf"] = cf
    payload = {"category": category, "price": price, "in_stock": in_stock,
               "tags": list(tags), "stock": stock}
    return Point(pid, vectors, payload)


ADAPTERS = [
    "edge",
    "client-local",
    pytest.param(
        "client-server",
        marks=pytest.mark.skipif(
            not SERVER.storage.qdrant_url, reason="QDRANT_URL is not set: no Qdrant server to test"
        ),
    ),
]


@pytest.fixture
def prefix() -> str:
    """Collection names of one test: unique, so tests never meet on a shared server."""
    return f"contract_{uuid.uuid4().hex[:10]}_"


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path, prefix: str) -> Iterator[VectorStore]:
    s: VectorStore
    if request.param == "edge":
        # A 1 KB threshold makes even the small test collections build and use HNSW.
        s = EdgeVectorStore(tmp_path / "qdrant", hnsw_threshold_kb=1)
    elif request.param == "client-local":
        s = ClientVectorStore(path=tmp_path / "local")
    else:
        assert SERVER.storage.qdrant_url
        s = ClientVectorStore(SERVER.storage.qdrant_url, api_key=SERVER.storage.qdrant_api_key,
                              hnsw_threshold_kb=1)
    yield s
    for name in s.list_collections():
        if name.startswith(prefix):
            s.drop_collection(name)
    s.close()


@pytest.fixture
def name(prefix: str) -> Callable[[str], str]:
    return lambda suffix: prefix + suffix


@pytest.fixture
def items(store: VectorStore, name: Callable[[str], str]) -> str:
    """Six items with known payloads, nearest to (1, 0, 0, 0) in id order by `text`;
    items 1-3 also have a `cf` vector, items 4-6 have none."""
    coll = name("items")
    store.create_collection(coll, SPEC)
    store.upsert(coll, [
        item(1, "shoes", 10.0, True, ("red", "sale"), 5, vec(1, 0, 0, 0), vec(1, 0, 0, 0)),
        item(2, "shoes", 20.0, False, ("blue",), 0, vec(0.9, 0.1, 0, 0), vec(2, 0, 0, 0)),
        item(3, "hats", 30.0, True, ("red",), 2, vec(0.8, 0.2, 0, 0), vec(3, 0, 0, 0)),
        item(4, "hats", 40.0, True, (), 7, vec(0.7, 0.3, 0, 0)),
        item(5, "bags", 50.0, False, ("sale",), 0, vec(0.6, 0.4, 0, 0)),
        item(6, "bags", 60.0, True, ("blue", "sale"), 3, vec(0.5, 0.5, 0, 0)),
    ])
    return coll


def ids_of(store: VectorStore, coll: str, flt: Filter | None = None, limit: int = 10,
           using: str = "text") -> list[int]:
    q = vec(1, 0, 0, 0)
    return [h.id for h in store.query(coll, Query(q, using, limit, flt))]


# --- collections -------------------------------------------------------------------------


def test_created_collections_are_listed_sorted(
    store: VectorStore, name: Callable[[str], str]
) -> None:
    for suffix in ("b", "a", "c"):
        store.create_collection(name(suffix), SPEC)
    ours = [n for n in store.list_collections() if n.startswith(name(""))]
    assert ours == [name("a"), name("b"), name("c")]


def test_creating_an_existing_collection_fails(store: VectorStore, items: str) -> None:
    with pytest.raises(VectorStoreError):
        store.create_collection(items, SPEC)
    assert store.count(items) == 6  # and leaves the existing one alone


def test_dropped_collection_is_gone_and_dropping_twice_is_fine(
    store: VectorStore, items: str
) -> None:
    store.drop_collection(items)
    assert items not in store.list_collections()
    with pytest.raises(VectorStoreError):
        store.count(items)
    store.drop_collection(items)


def test_a_dropped_name_can_be_created_again_empty(store: VectorStore, items: str) -> None:
    store.drop_collection(items)
    store.create_collection(items, SPEC)
    assert store.count(items) == 0


def test_unknown_collection_raises_vector_store_error(
    store: VectorStore, name: Callable[[str], str]
) -> None:
    with pytest.raises(VectorStoreError):
        store.query(name("missing"), Query(vec(1, 0, 0, 0), "text", 3))
    with pytest.raises(VectorStoreError):
        store.upsert(name("missing"), [item(1)])


# --- writes ------------------------------------------------------------------------------


def test_upsert_is_idempotent_by_id(store: VectorStore, items: str) -> None:
    store.upsert(items, [item(1, "socks", 99.0)])
    store.upsert(items, [item(1, "socks", 99.0)])
    assert store.count(items) == 6
    [rec] = store.retrieve(items, [1])
    assert rec.payload is not None
    assert rec.payload["category"] == "socks"
    assert rec.payload["price"] == 99.0


def test_upsert_replaces_vectors_too(store: VectorStore, items: str) -> None:
    # Item 1 loses its cf vector: a replaced point keeps nothing of the old one.
    store.upsert(items, [item(1, text=vec(0, 0, 0, 1))])
    [rec] = store.retrieve(items, [1], vectors=["text", "cf"])
    assert set(rec.vectors) == {"text"}
    assert ids_of(store, items, limit=1) == [2]


def test_upsert_of_a_wrong_sized_vector_fails(store: VectorStore, items: str) -> None:
    with pytest.raises(VectorStoreError):
        store.upsert(items, [item(9, text=vec(1, 0, 0))])


def test_set_payload_merges_into_the_existing_payload(store: VectorStore, items: str) -> None:
    store.set_payload(items, 3, {"price": 35.5, "promoted": True})
    [rec] = store.retrieve(items, [3])
    assert rec.payload is not None
    assert rec.payload["price"] == 35.5
    assert rec.payload["promoted"] is True
    assert rec.payload["category"] == "hats"
    assert ids_of(store, items, Filter(ranges={"price": Range(gte=35.0, lte=36.0)})) == [3]


def test_set_payload_on_an_unknown_point_fails(store: VectorStore, items: str) -> None:
    with pytest.raises(VectorStoreError):
        store.set_payload(items, 12345, {"price": 1.0})


def test_delete_removes_points_and_ignores_unknown_ids(store: VectorStore, items: str) -> None:
    store.delete(items, [2, 4, 12345])
    assert store.count(items) == 4
    assert store.retrieve(items, [2, 4]) == []
    assert 2 not in ids_of(store, items)
    store.delete(items, [])


# --- reads -------------------------------------------------------------------------------


def test_count_with_and_without_filter(store: VectorStore, items: str) -> None:
    assert store.count(items) == 6
    assert store.count(items, Filter()) == 6
    assert store.count(items, Filter(equals={"category": "hats"})) == 2
    assert store.count(items, Filter(equals={"in_stock": False})) == 2
    assert store.count(items, Filter(exclude_ids=frozenset({1, 2}))) == 4


def test_ids_lists_every_point_that_passes_the_filter_in_order(
    store: VectorStore, items: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of two: the listing must follow the engine's offsets to the end.
    monkeypatch.setattr(edge, "_SCROLL_PAGE", 2)
    monkeypatch.setattr(client, "_SCROLL_PAGE", 2)
    assert store.ids(items).tolist() == sorted(store.ids(items).tolist())
    assert len(store.ids(items)) == 6
    hats = store.ids(items, Filter(equals={"category": "hats"}))
    assert len(hats) == 2
    assert {r.payload["category"] for r in store.retrieve(items, hats.tolist())
            if r.payload} == {"hats"}
    assert store.ids(items, Filter(equals={"category": "none such"})).tolist() == []


def test_retrieve_keeps_the_asked_order_and_skips_unknown_ids(
    store: VectorStore, items: str
) -> None:
    records = store.retrieve(items, [5, 12345, 1, 3])
    assert [r.id for r in records] == [5, 1, 3]
    assert all(r.vectors == {} for r in records)  # no vectors unless named
    assert [r.payload["category"] for r in records if r.payload] == ["bags", "shoes", "hats"]
    assert store.retrieve(items, []) == []


def test_retrieve_returns_float32_vectors_of_the_named_vectors_only(
    store: VectorStore, items: str
) -> None:
    [rec] = store.retrieve(items, [2], vectors=["cf"], with_payload=False)
    assert rec.payload is None
    assert set(rec.vectors) == {"cf"}
    assert rec.vectors["cf"].dtype == np.float32
    np.testing.assert_allclose(rec.vectors["cf"], [2, 0, 0, 0])  # dot: stored as given
    [both] = store.retrieve(items, [1], vectors=["text", "cf"])
    assert set(both.vectors) == {"text", "cf"}
    # Cosine vectors may come back normalised; the direction is what is kept.
    text = both.vectors["text"]
    assert float(text @ vec(1, 0, 0, 0)) / float(np.linalg.norm(text)) == pytest.approx(1.0)


def test_point_lacking_a_vector_is_no_candidate_for_it_but_is_retrievable(
    store: VectorStore, items: str
) -> None:
    assert sorted(ids_of(store, items, using="cf")) == [1, 2, 3]
    [rec] = store.retrieve(items, [5], vectors=["text", "cf"])
    assert set(rec.vectors) == {"text"}


def test_cosine_ranks_by_angle_and_dot_by_product(
    store: VectorStore, name: Callable[[str], str]
) -> None:
    coll = name("metrics")
    spec = CollectionSpec(
        {"cos": VectorSpec(2, Distance.COSINE), "dot": VectorSpec(2, Distance.DOT)}
    )
    store.create_collection(coll, spec)
    aligned, long = vec(1, 0), vec(10, 10)
    store.upsert(coll, [Point(1, {"cos": aligned, "dot": aligned}, {}),
                        Point(2, {"cos": long, "dot": long}, {})])
    q = vec(1, 0)
    cos = store.query(coll, Query(q, "cos", 2))
    dot = store.query(coll, Query(q, "dot", 2))
    assert [h.id for h in cos] == [1, 2]
    assert [h.score for h in cos] == pytest.approx([1.0, 2 ** -0.5], abs=1e-5)
    assert [h.id for h in dot] == [2, 1]
    assert [h.score for h in dot] == pytest.approx([10.0, 1.0], abs=1e-5)


def test_limit_caps_the_hits_best_first(store: VectorStore, items: str) -> None:
    hits = store.query(items, Query(vec(1, 0, 0, 0), "text", 3))
    assert [h.id for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert len(store.query(items, Query(vec(1, 0, 0, 0), "text", 100))) == 6


def test_payload_is_returned_only_when_asked(store: VectorStore, items: str) -> None:
    bare = store.query(items, Query(vec(1, 0, 0, 0), "text", 2))
    assert all(h.payload is None for h in bare)
    full = store.query(items, Query(vec(1, 0, 0, 0), "text", 2, with_payload=True))
    assert [h.payload["category"] for h in full if h.payload] == ["shoes", "shoes"]


def test_release_keeps_the_collection_usable(store: VectorStore, items: str) -> None:
    store.release(items)
    assert store.count(items) == 6


def test_payload_fields_pick_the_keys_returned(store: VectorStore, items: str) -> None:
    query = Query(vec(1, 0, 0, 0), "text", 2, with_payload=True, payload_fields=("category",))
    for batch in (store.query(items, query), store.query_batch(items, [query])[0]):
        assert [h.payload for h in batch] == [{"category": "shoes"}, {"category": "shoes"}]
    top = store.top_by(items, "price", 1, payload_fields=("price", "category"))
    assert top[0].payload == {"price": 60.0, "category": "bags"}
    records = store.retrieve(items, [6], payload_fields=("category",))
    assert [r.payload for r in records] == [{"category": "bags"}]
    assert [h.payload for h in store.top_by(items, "price", 2, payload_fields=())] == [{}, {}]


# --- filters -----------------------------------------------------------------------------


def test_keyword_equals_matches_the_value(store: VectorStore, items: str) -> None:
    assert ids_of(store, items, Filter(equals={"category": "hats"})) == [3, 4]


def test_keyword_equals_on_a_list_field_matches_membership(
    store: VectorStore, items: str
) -> None:
    assert ids_of(store, items, Filter(equals={"tags": "sale"})) == [1, 5, 6]


def test_any_of_matches_one_of_the_values(store: VectorStore, items: str) -> None:
    assert ids_of(store, items, Filter(any_of={"category": ["hats", "bags"]})) == [3, 4, 5, 6]
    assert ids_of(store, items, Filter(any_of={"tags": ["blue", "red"]})) == [1, 2, 3, 6]


def test_float_range_is_inclusive_and_may_be_open(store: VectorStore, items: str) -> None:
    assert ids_of(store, items, Filter(ranges={"price": Range(gte=20.0, lte=40.0)})) == [2, 3, 4]
    assert ids_of(store, items, Filter(ranges={"price": Range(gte=50.0)})) == [5, 6]
    assert ids_of(store, items, Filter(ranges={"price": Range(lte=10.0)})) == [1]
    assert ids_of(store, items, Filter(ranges={"price": Range()})) == [1, 2, 3, 4, 5, 6]


def test_bool_equals_matches_true_and_false(store: VectorStore, items: str) -> None:
    assert ids_of(store, items, Filter(equals={"in_stock": True})) == [1, 3, 4, 6]
    assert ids_of(store, items, Filter(equals={"in_stock": False})) == [2, 5]


def test_top_by_orders_on_a_payload_field_largest_first(store: VectorStore, items: str) -> None:
    hits = store.top_by(items, "price", 3)
    assert [h.id for h in hits] == [6, 5, 4]
    assert [h.score for h in hits] == [60.0, 50.0, 40.0]
    assert hits[0].payload is not None and hits[0].payload["category"] == "bags"


def test_top_by_honours_the_filter(store: VectorStore, items: str) -> None:
    hits = store.top_by(items, "price", 10, Filter(equals={"in_stock": True},
                                                   exclude_ids=frozenset({6})))
    assert [h.id for h in hits] == [4, 3, 1]


def test_integer_equals_and_range(store: VectorStore, items: str) -> None:
    assert ids_of(store, items, Filter(equals={"stock": 0})) == [2, 5]
    assert ids_of(store, items, Filter(ranges={"stock": Range(gte=3)})) == [1, 4, 6]


def test_conditions_combine_as_a_conjunction(store: VectorStore, items: str) -> None:
    flt = Filter(
        equals={"in_stock": True, "tags": "sale"},
        any_of={"category": ["shoes", "bags"]},
        ranges={"price": Range(gte=15.0)},
    )
    assert ids_of(store, items, flt) == [6]
    assert store.count(items, flt) == 1


def test_filter_excludes_points_inside_the_query(store: VectorStore, items: str) -> None:
    # The nearest two are excluded, and the limit is still filled from the rest.
    flt = Filter(exclude_ids=frozenset({1, 2}))
    assert ids_of(store, items, flt, limit=3) == [3, 4, 5]
    both = Filter(equals={"category": "shoes"}, exclude_ids=frozenset({1}))
    assert ids_of(store, items, both) == [2]


def test_filter_on_a_vector_only_some_points_have(store: VectorStore, items: str) -> None:
    flt = Filter(equals={"in_stock": True})
    assert ids_of(store, items, flt, using="cf") == [3, 1]  # dot: 3 > 1 along (1, 0, 0, 0)


# --- batches -----------------------------------------------------------------------------


def test_query_batch_equals_the_individual_queries(store: VectorStore, items: str) -> None:
    queries = [
        Query(vec(1, 0, 0, 0), "text", 3),
        Query(vec(0, 1, 0, 0), "text", 2, Filter(equals={"category": "bags"}), with_payload=True),
        Query(vec(1, 0, 0, 0), "cf", 5, Filter(exclude_ids=frozenset({3}))),
        Query(vec(0.5, 0.5, 0, 0), "text", 4, exact=True, hnsw_ef=64),
    ]
    batch = store.query_batch(items, queries)
    single = [store.query(items, q) for q in queries]
    assert [[h.id for h in hits] for hits in batch] == [[h.id for h in hits] for hits in single]
    for b, s in zip(batch, single, strict=True):
        assert [h.score for h in b] == pytest.approx([h.score for h in s])
        assert [h.payload for h in b] == [h.payload for h in s]
    assert store.query_batch(items, []) == []


def test_a_quantised_vector_finds_the_same_neighbours_with_float_scores(
    store: VectorStore, name: Callable[[str], str]
) -> None:
    coll = name("quantised")
    spec = CollectionSpec(vectors={"text": VectorSpec(16, Distance.COSINE, quantized=True)},
                          indexes={"category": PayloadType.KEYWORD})
    store.create_collection(coll, spec)
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.upsert(coll, [Point(i + 1, {"text": v}, {"category": "c" + str(i % 3)})
                        for i, v in enumerate(vectors)])
    store.finish_bulk_load(coll)
    q = vectors[7]
    exact = np.argsort(-(vectors @ q))[:5] + 1
    hits = store.query(coll, Query(q, "text", 5))
    assert hits[0].id == 8
    assert len({h.id for h in hits} & set(exact.tolist())) >= 4
    # Candidates are rescored against the float32 originals.
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    flt = store.query(coll, Query(q, "text", 5, Filter(equals={"category": "c1"})))
    assert flt and all((h.id - 1) % 3 == 1 for h in flt)


# --- aliases -----------------------------------------------------------------------------


def test_alias_is_created_moved_and_resolved(
    store: VectorStore, name: Callable[[str], str]
) -> None:
    v1, v2, alias = name("v1"), name("v2"), name("live")
    store.create_collection(v1, SPEC)
    store.create_collection(v2, SPEC)
    assert store.resolve_alias(alias) is None
    store.set_alias(alias, v1)
    assert store.resolve_alias(alias) == v1
    store.set_alias(alias, v2)
    assert store.resolve_alias(alias) == v2
    assert alias not in store.list_collections()


def test_an_alias_works_wherever_a_collection_name_does(
    store: VectorStore, items: str, name: Callable[[str], str]
) -> None:
    alias = name("live")
    store.set_alias(alias, items)
    assert store.count(alias) == 6
    assert [h.id for h in store.query(alias, Query(vec(1, 0, 0, 0), "text", 2))] == [1, 2]
    store.upsert(alias, [item(7)])
    assert [r.id for r in store.retrieve(items, [7])] == [7]


def test_unknown_alias_resolves_to_none(store: VectorStore, name: Callable[[str], str]) -> None:
    assert store.resolve_alias(name("nobody")) is None


def test_alias_to_an_unknown_collection_fails(
    store: VectorStore, name: Callable[[str], str]
) -> None:
    with pytest.raises(VectorStoreError):
        store.set_alias(name("live"), name("missing"))


def test_dropping_an_alias_name_drops_nothing(
    store: VectorStore, items: str, name: Callable[[str], str]
) -> None:
    alias = name("live")
    store.set_alias(alias, items)
    store.drop_collection(alias)
    assert store.count(items) == 6
    assert store.resolve_alias(alias) == items


def test_dropping_a_collection_removes_its_aliases(
    store: VectorStore, items: str, name: Callable[[str], str]
) -> None:
    alias = name("live")
    store.set_alias(alias, items)
    store.drop_collection(items)
    assert store.resolve_alias(alias) is None


# --- index quality -----------------------------------------------------------------------


def test_hnsw_after_bulk_load_agrees_with_exact_search(
    store: VectorStore, name: Callable[[str], str]
) -> None:
    rng = np.random.default_rng(7)
    data = rng.standard_normal((2000, 32)).astype(np.float32)
    queries = rng.standard_normal((20, 32)).astype(np.float32)
    coll = name("random")
    store.create_collection(coll, CollectionSpec({"v": VectorSpec(32, Distance.COSINE)}))
    store.upsert(coll, [Point(i, {"v": data[i]}, {}) for i in range(len(data))])
    store.finish_bulk_load(coll)

    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    recalls = []
    for q in queries:
        truth = np.argsort(-(unit @ q))[:10].tolist()
        exact = [h.id for h in store.query(coll, Query(q, "v", 10, exact=True))]
        assert exact == truth
        approx = {h.id for h in store.query(coll, Query(q, "v", 10))}
        recalls.append(len(approx & set(truth)) / 10)
        wide = {h.id for h in store.query(coll, Query(q, "v", 10, hnsw_ef=256))}
        assert len(wide & set(truth)) >= 9
    assert float(np.mean(recalls)) >= 0.9


# --- concurrency -------------------------------------------------------------------------


def test_threads_can_share_the_store(store: VectorStore, items: str) -> None:
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        try:
            while not done.is_set():
                hits = store.query(items, Query(vec(1, 0, 0, 0), "text", 3,
                                                Filter(equals={"in_stock": True})))
                assert [h.id for h in hits][:1] == [1]
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(100, 160):
            store.upsert(items, [item(i, text=vec(0, 0, 1, 0))])
            store.set_payload(items, i, {"price": float(i)})
    finally:
        done.set()
        for t in threads:
            t.join()
    assert errors == []
    assert store.count(items) == 66


# --- the embedded engine sharing a data dir ------------------------------------------------


def test_collection_made_by_another_store_on_the_same_root_becomes_visible(
    tmp_path: Path,
) -> None:
    first = EdgeVectorStore(tmp_path)
    assert first.list_collections() == []
    second = EdgeVectorStore(tmp_path)
    second.create_collection("late", SPEC)
    second.upsert("late", [item(1), item(2)])
    second.set_alias("live", "late")
    second.close()

    assert first.list_collections() == ["late"]
    assert first.count("late") == 2
    assert first.resolve_alias("live") == "late"
    first.close()


def test_alias_moved_by_another_store_is_seen_at_once(tmp_path: Path) -> None:
    first = EdgeVectorStore(tmp_path)
    first.create_collection("a", SPEC)
    first.create_collection("b", SPEC)
    first.set_alias("live", "a")
    other = EdgeVectorStore(tmp_path)
    other.set_alias("live", "b")
    assert first.resolve_alias("live") == "b"
    other.close()
    first.close()


_HOLDER = """
import sys
from pathlib import Path
from indexing.vectorstore.edge import EdgeVectorStore
store = EdgeVectorStore(Path(sys.argv[1]))
store.count(sys.argv[2])
print("open", flush=True)
sys.stdin.readline()
store.close()
"""


def test_shard_open_in_another_process_gives_vector_store_error(tmp_path: Path) -> None:
    maker = EdgeVectorStore(tmp_path)
    maker.create_collection("items", SPEC)
    maker.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path), "items"],
        cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        ready, _, _ = select.select([holder.stdout], [], [], 30)
        line = holder.stdout.readline() if ready else ""
        assert line.strip() == "open", holder.stderr.read() if holder.stderr else ""
        store = EdgeVectorStore(tmp_path)
        with pytest.raises(VectorStoreError, match="another process"):
            store.count("items")
        with pytest.raises(VectorStoreError, match="another process"):
            store.drop_collection("items")
        assert store.list_collections() == ["items"]
        store.close()
    finally:
        holder.communicate("\n", timeout=30)
    reopened = EdgeVectorStore(tmp_path)
    assert reopened.count("items") == 0
    reopened.close()


def test_a_released_collection_opens_in_another_store_and_comes_back(tmp_path: Path) -> None:
    builder = EdgeVectorStore(tmp_path)
    builder.create_collection("items", SPEC)
    builder.upsert("items", [item(1), item(2)])
    builder.release("items")
    server = EdgeVectorStore(tmp_path)
    assert server.count("items") == 2  # the builder let go: the shard opens here
    server.release("items")
    builder.upsert("items", [item(3)])  # and reopens where it is used again
    assert builder.count("items") == 3
    builder.release("never-opened")  # nothing to let go of
    builder.close()
    server.close()


def test_a_closed_store_refuses_further_use(tmp_path: Path) -> None:
    store = EdgeVectorStore(tmp_path)
    store.create_collection("items", SPEC)
    store.close()
    with pytest.raises(VectorStoreError, match="closed"):
        store.count("items")


def test_factory_opens_the_embedded_engine_in_the_data_dir(tmp_path: Path) -> None:
    store = open_vector_store(Settings(data_dir=tmp_path))
    assert isinstance(store, EdgeVectorStore)
    store.create_collection("items", SPEC)
    assert (tmp_path / "qdrant" / "collections" / "items").is_dir()
    store.close()


def test_importing_the_package_loads_no_qdrant_engine() -> None:
    code = (
        "import sys, indexing.vectorstore\n"
        "loaded = [m for m in ('qdrant_edge', 'qdrant_client') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""


def test_prefetch_reads_ahead_and_changes_nothing(store: VectorStore, items: str) -> None:
    before = ids_of(store, items)
    read = store.prefetch(items)
    # The in-process engine reads its files; a server manages its own memory.
    assert read > 0 if isinstance(store, EdgeVectorStore) else read == 0
    assert store.prefetch(items, max_bytes=0) == 0
    assert ids_of(store, items) == before
