"""Batch export of recommendations for e-mail and push (`lodestar export-recs`).

For every shopper with an event in the window (`since` back from the newest event in the
data, as the training window is measured), the list `GET /v1/users/{id}/recommendations`
would answer with no parameters: the same history (models.history), the same
`Recommender` over the same live version, the same request. What differs is how the work
is fed, not what it computes:

- shoppers are read a page at a time in user id order (keyset paging), so millions of
  them never sit in memory at once;
- each page's histories come from one query (`load_histories`, the per-shopper statement
  run for every id of the page) instead of one round trip per shopper;
- one `Recommender` serves the whole export, so its version's item cache fills once and
  stays warm.

The embedded vector engine holds the GIL while it searches, so threads would only queue
behind one another, and its shards open in one process only, so a process pool cannot
share them: the export runs in one thread (bench/results/export.md says where the time
goes). The file is written beside its destination under a temporary name and renamed
into place at the end: a failed or interrupted export leaves no half file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

import msgspec

from api.resources import Resources
from indexing.interactions import resolve_as_of
from models.history import active_shoppers, count_active_shoppers, load_histories, window_start
from ranking.reasons import Reason
from retrieval.filters import ItemFilters
from retrieval.recommender import Recommender, RecRequest
from retrieval.results import ListResult

FORMATS = ("jsonl", "parquet")
PAGE_SIZE = 500  # shoppers per history query and per Parquet row group


class ExportRefused(Exception):
    """The export cannot give the lists the API would (no live or a stale index)."""


class ExportedItem(msgspec.Struct, frozen=True):
    product_id: str
    score: float
    reason: str | None  # the reason's kind: because_you_viewed, similar_shoppers, ...


class ExportedRow(msgspec.Struct, frozen=True):
    """One shopper's list, as a line of the JSON Lines file or a row of the Parquet one."""

    user_id: str  # as stored: a pseudonym where LODESTAR_PSEUDONYMISE is on
    items: list[ExportedItem]
    strategy: str
    model_version: int | None
    generated_at: datetime


@dataclass(frozen=True)
class ExportOptions:
    out: Path
    format: str = "jsonl"
    since: timedelta = timedelta(days=30)
    limit: int = 10
    max_shoppers: int | None = None  # None: every shopper in the window
    page_size: int = PAGE_SIZE

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if self.since <= timedelta(0):
            raise ValueError("since must be positive")
        if self.limit < 1:
            raise ValueError("limit must be at least 1")
        if self.max_shoppers is not None and self.max_shoppers < 1:
            raise ValueError("max_shoppers must be at least 1")
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    shoppers: int
    model_version: int
    window_start: datetime | None  # None: no events at all, so nobody was active
    as_of: datetime | None  # the newest event, which the window is measured back from
    generated_at: datetime
    seconds: float


def format_of(path: Path, named: str | None) -> str:
    """The format named, else the one the file's suffix says; ValueError when neither says
    one, or they disagree (a .jsonl file holding Parquet would fool whoever reads it)."""
    suffix = path.suffix.lower().lstrip(".")
    by_suffix = suffix if suffix in FORMATS else None
    if named is not None:
        if named not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {named!r}")
        if by_suffix is not None and by_suffix != named:
            raise ValueError(f"{path.name} ends in .{suffix} but the format asked is {named}")
        return named
    if by_suffix is None:
        raise ValueError(f"cannot tell the format of {path.name}: end it in .jsonl or "
                         ".parquet, or pass --format")
    return by_suffix


def row_of(user_id: str, result: ListResult, generated_at: datetime) -> ExportedRow:
    """The exported row of one shopper's list."""
    return ExportedRow(
        user_id=user_id,
        items=[ExportedItem(i.product_id, float(i.score),
                            i.reason.kind if isinstance(i.reason, Reason) else None)
               for i in result.items],
        strategy=result.strategy, model_version=result.version, generated_at=generated_at)


def shopper_pages(resources: Resources, start: datetime, page_size: int,
                  most: int | None = None) -> Iterator[list[str]]:
    """The shoppers active after `start`, page by page in user id order, `most` in all."""
    after, left = "", most
    while left is None or left > 0:
        size = page_size if left is None else min(page_size, left)
        page = active_shoppers(resources.database, start, after, size)
        if not page:
            return
        yield page
        after = page[-1]
        if left is not None:
            left -= len(page)


def export_recommendations(
    resources: Resources,
    options: ExportOptions,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write the recommendations of the window's shoppers to `options.out`.

    `progress(done, total)` is called after each page. Raises ExportRefused when there is
    no live index or it is stale (the API would answer everyone with the popular fallback
    then, which is no e-mail worth sending); any failure, the vector store's included,
    leaves no file behind.
    """
    started = time.perf_counter()
    settings = resources.settings
    live, view = resources.index.live, resources.index.view
    if live is None or view is None:
        raise ExportRefused("no live index version: run `lodestar reindex` first")
    if resources.index_stale():
        raise ExportRefused(f"the live index (version {live.version}) is older than "
                            f"{settings.serving.index_max_age_hours:g} h: reindex first")
    generated_at = datetime.now(UTC)
    as_of = resolve_as_of(resources.database, settings)
    start = as_of - options.since if as_of is not None else None
    total = count_active_shoppers(resources.database, start) if start is not None else 0
    if options.max_shoppers is not None:
        total = min(total, options.max_shoppers)
    history_since = window_start(live.as_of, settings.training.event_window_days)
    recommender = Recommender(resources.store, settings, view)
    # What the API's recommendations route asks with no parameters, at one time for the
    # whole file, so that every row's "new arrival" window is the same.
    request = RecRequest(limit=options.limit, filter=ItemFilters().to_filter(),
                         now=generated_at.timestamp())
    done = 0
    if progress is not None:
        progress(0, total)
    with _replaced_at_end(options.out) as stream:
        writer = _writer(options.format, stream)
        try:
            pages = (shopper_pages(resources, start, options.page_size, options.max_shoppers)
                     if start is not None else iter(()))
            for page in pages:
                histories = load_histories(resources.database, page, history_since,
                                           settings.rec.history_events)
                writer.write([row_of(u, recommender.recommend(histories[u], request),
                                     generated_at) for u in page])
                done += len(page)
                if progress is not None:
                    progress(done, max(total, done))
        finally:
            # Before the stream closes, also on failure (the file is deleted then anyway).
            writer.close()
    return ExportResult(path=options.out, shoppers=done, model_version=live.version,
                        window_start=start, as_of=as_of, generated_at=generated_at,
                        seconds=time.perf_counter() - started)


# --- writing -----------------------------------------------------------------------------

@contextlib.contextmanager
def _replaced_at_end(path: Path) -> Iterator[IO[bytes]]:
    """A binary stream to a temporary file beside `path` (same directory, so the rename is
    atomic), moved onto `path` when the block ends without error and deleted otherwise."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); an export is read by the mailer's user.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _Writer(Protocol):
    def write(self, rows: Sequence[ExportedRow]) -> None: ...

    def close(self) -> None: ...


class _JsonLines:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._encoder = msgspec.json.Encoder()

    def write(self, rows: Sequence[ExportedRow]) -> None:
        buffer = bytearray()
        for row in rows:
            self._encoder.encode_into(row, buffer, -1)
            buffer.extend(b"\n")
        self._stream.write(buffer)

    def close(self) -> None:
        self._stream.flush()


class _Parquet:
    """One row group per page; items as a list of structs, so a reader gets them nested."""

    def __init__(self, stream: IO[bytes]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self.schema = pa.schema([
            ("user_id", pa.string()),
            ("items", pa.list_(pa.struct([("product_id", pa.string()),
                                          ("score", pa.float64()),
                                          ("reason", pa.string())]))),
            ("strategy", pa.string()),
            ("model_version", pa.int64()),
            ("generated_at", pa.timestamp("us", tz="UTC")),
        ])
        self._writer: Any = pq.ParquetWriter(stream, self.schema)

    def write(self, rows: Sequence[ExportedRow]) -> None:
        if not rows:
            return
        table = self._pa.Table.from_pydict({
            "user_id": [r.user_id for r in rows],
            "items": [[{"product_id": i.product_id, "score": i.score, "reason": i.reason}
                       for i in r.items] for r in rows],
            "strategy": [r.strategy for r in rows],
            "model_version": [r.model_version for r in rows],
            "generated_at": [r.generated_at for r in rows],
        }, schema=self.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


def _writer(kind: str, stream: IO[bytes]) -> _Writer:
    return _Parquet(stream) if kind == "parquet" else _JsonLines(stream)
