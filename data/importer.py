"""`lodestar import`: load a shop's products and events from CSV, validated, all or nothing.

The formats are those of DESIGN.md ("Import format"). Every row is checked before anything
is written; by default one bad row means nothing is written and the report lists every bad
row with its line number, so an operator fixes the file once rather than once per error.
With `skip_invalid` the good rows are written and the bad ones reported.

How a file travels: it is read line by line (never held in memory), each row validated in
Python and streamed with COPY into a temporary table; repeats within the file are found
there with SQL (so memory stays flat however many ids the file holds); then one
`INSERT ... SELECT ... ON CONFLICT` moves the rows into place. All of it happens in one
transaction, which is rolled back when the file is refused.

Rules, stated once (the README repeats them):

- UTF-8, with or without a byte-order mark; comma-separated; fields with commas, quotes or
  line breaks are quoted as usual in CSV. Line numbers are physical lines, the header being
  line 1; a row that spans several lines is reported at the line where it starts. Line 0
  stands for the file as a whole (it could not be opened).
- The header must name every required column; optional columns may be absent; any other
  column refuses the whole file (a misspelt `in_stock` would otherwise be dropped silently
  and every product would take the default). Names are matched without regard to case or
  surrounding spaces, and a column may appear once only.
- Every value is stripped of surrounding spaces. Rows whose fields are all empty are
  skipped, as are blank lines. Unnamed columns at the end of the header (lines that end
  with a comma, as spreadsheets write them) are ignored, and so are empty fields there.
- A row must have as many fields as the header; when it has not, the message says so
  and, for a row that runs over several lines, points at a quote left open.
- Ids (`product_id`, `event_id`, `user_id`, `session_id`): at most 128 characters, no
  control characters; all but `session_id` required.
- `title` and `category` required; no text field may hold control characters, except that
  `description` may hold tabs and line breaks.
- `price`: a plain decimal number (`12`, `12.5`, `1e3`), not negative, below 10^10; it is
  stored rounded to cents.
- `in_stock`, `promoted`: true/false, 1/0 or yes/no in any case; empty means "not stated"
  (a new product gets in_stock=true, promoted=false; an existing one keeps its value).
- `tags`: separated by `|`; empty tags and repeats dropped.
- `created_date`, `timestamp`: ISO 8601 date or date-time (`2024-05-01`,
  `2024-05-01T12:30:00`, `... +02:00`, `...Z`); without a zone it is UTC; the instant, in
  UTC, must fall in the years 1990 to 2099.
- `event_type`: one of view, click, add_to_cart, purchase (any case).
- `page_dwell_ms`: empty, or a whole number of milliseconds from 0 to 2147483647 (`1500.0`
  is read as 1500, as spreadsheets and data frames write integers that way).
- A `product_id` repeated within a products file is an error on every later line. An
  `event_id` repeated within an events file is skipped as a duplicate when the rows agree,
  and an error on the later line when they do not. Events already stored (same
  `event_id`) are skipped, so importing the same file twice adds nothing.
- Events may name products that are not in the catalog (yet); they are imported and
  counted in the report. An event's `price` is the catalog price of its product at import.
- Warned about, not refused: events naming unknown products; events more than a day in the
  future (recency is measured from the newest event, so one stray date ages all the
  others); event ids already stored with different values (the stored event is kept).
- `import_files` takes a products and an events file in one transaction, products first:
  both are written or neither.
"""

from __future__ import annotations

import csv
import difflib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import psycopg
from sqlalchemy import Connection

from data.parsers import (
    has_stray_controls,
    parse_bool,
    parse_dwell_ms,
    parse_event_type,
    parse_identifier,
    parse_label,
    parse_long_text,
    parse_optional_identifier,
    parse_optional_label,
    parse_price,
    parse_required_label,
    parse_tags,
    parse_timestamp,
    parse_title,
    show,
)
from models.db import Database

log = logging.getLogger(__name__)

MAX_ERRORS_KEPT = 1000
"""Errors kept in a report; `error_count` counts them all."""

UNKNOWN_PRODUCT_SAMPLE = 10
PROGRESS_EVERY = 10_000
WORK_MEM = "64MB"

PRODUCT_COLUMNS = (
    "product_id", "title", "category", "subcategory", "brand", "price", "description", "tags",
    "created_date",
)
PRODUCT_OPTIONAL_COLUMNS = ("in_stock", "promoted")
EVENT_COLUMNS = (
    "event_id", "user_id", "product_id", "event_type", "timestamp", "session_id",
    "device_type", "page_dwell_ms",
)
EVENT_OPTIONAL_COLUMNS: tuple[str, ...] = ()


# --- reports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One refused row: where it starts in the file and why, naming the column."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportReport:
    """What one file's import did, or would have done had it not been refused.

    For events, `inserted + skipped_duplicates == rows_valid`; for products,
    `inserted + updated + unchanged == rows_valid` (when committed).
    """

    kind: str  # "products" | "events"
    rows_read: int  # data rows, header and blank lines not counted
    rows_valid: int
    inserted: int
    updated: int  # products whose stored row changed; always 0 for events
    skipped_duplicates: int  # events repeated in the file or already stored
    errors: list[RowError]  # the first MAX_ERRORS_KEPT, by line
    error_count: int
    committed: bool  # False: nothing from this import was written
    source: str = ""
    unchanged: int = 0  # products already stored exactly as in the file
    new_users: int = 0  # users first seen in this events file
    unknown_products: int = 0  # distinct product ids of events that are not in the catalog
    unknown_product_events: int = 0  # events naming those products
    unknown_product_sample: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    cleaned_rows: int = 0  # valid rows whose text had stray control characters cleaned away

    def summary(self) -> str:
        """One line for a terminal: what was read, written, skipped and refused."""
        parts = [f"{self.kind}: {self.rows_read} rows read, {self.rows_valid} valid"]
        if self.committed:
            parts.append(f"{self.inserted} inserted")
            if self.kind == "products":
                parts.append(f"{self.updated} updated, {self.unchanged} unchanged")
            else:
                parts.append(f"{self.skipped_duplicates} duplicates skipped")
                if self.unknown_products:
                    parts.append(
                        f"{self.unknown_product_events} events name {self.unknown_products}"
                        " products not in the catalog"
                    )
        else:
            parts.append("nothing written")
        if self.cleaned_rows:
            parts.append(f"{self.cleaned_rows} with control characters cleaned from their text")
        if self.error_count:
            parts.append(f"{self.error_count} invalid")
        return ", ".join(parts)


class ImportAborted(Exception):
    """Nothing was written: a file was refused, or had invalid rows and `skip_invalid` was off.

    `reports` holds one report per file of the import; `report` is the first that has errors.
    """

    def __init__(self, reports: Sequence[ImportReport]) -> None:
        self.reports = list(reports)
        self.report = next((r for r in self.reports if r.error_count), self.reports[0])
        lines = []
        for r in self.reports:
            if r.error_count:
                first = r.errors[0] if r.errors else None
                lines.append(
                    f"{r.source or r.kind}: {r.error_count} error(s)"
                    + (f", first at {first}" if first else "")
                )
        super().__init__("import aborted, nothing written; " + "; ".join(lines))


@dataclass(frozen=True)
class Progress:
    """Handed to a progress callback every few thousand rows."""

    kind: str
    rows_read: int
    bytes_read: int
    bytes_total: int


ProgressCallback = Callable[[Progress], None]


# --- rows and headers ----------------------------------------------------------------------


class RowInvalid(ValueError):
    """A row failed validation; `problems` names each column at fault and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class HeaderInvalid(ValueError):
    """The header line does not fit the format, so the whole file is refused."""


Parser = Callable[[str], Any]

# (column, parser) in the order of the staging table's columns after `line`.
_PRODUCT_FIELDS: tuple[tuple[str, Parser], ...] = (
    ("product_id", parse_identifier),
    ("title", parse_title),
    ("description", parse_long_text),
    ("category", parse_required_label),
    ("subcategory", parse_label),
    ("brand", parse_label),
    ("price", parse_price),
    ("tags", parse_tags),
    ("in_stock", parse_bool),
    ("promoted", parse_bool),
    ("created_date", parse_timestamp),
)
_EVENT_FIELDS: tuple[tuple[str, Parser], ...] = (
    ("event_id", parse_identifier),
    ("user_id", parse_identifier),
    ("product_id", parse_identifier),
    ("event_type", parse_event_type),
    ("timestamp", parse_timestamp),
    ("session_id", parse_optional_identifier),
    ("device_type", parse_optional_label),
    ("page_dwell_ms", parse_dwell_ms),
)


# Text columns whose stray control characters are cleaned rather than refused.
_CLEANED_COLUMNS = frozenset({"title", "description", "category", "subcategory", "brand",
                              "tags", "device_type"})


@dataclass(frozen=True)
class Header:
    """A checked header: where each column of the format sits in a row.

    A column the file lacks (an optional one) points one past the row's last field, where
    `validate_row` puts an empty value.
    """

    kind: str
    width: int
    positions: tuple[int, ...]  # one per field of the kind, in validation order
    fields: tuple[tuple[str, Parser], ...]
    plan: tuple[tuple[Parser, int], ...]  # (parser, position) per field: the quick path
    padded: bool  # some column is absent: rows get an empty value appended


def check_header(kind: str, names: Sequence[str]) -> Header:
    """Match a header line against the format of `kind`.

    Raises HeaderInvalid naming every missing, repeated or unknown column at once.
    """
    required: tuple[str, ...]
    optional: tuple[str, ...]
    if kind == "products":
        required, optional, fields = PRODUCT_COLUMNS, PRODUCT_OPTIONAL_COLUMNS, _PRODUCT_FIELDS
    elif kind == "events":
        required, optional, fields = EVENT_COLUMNS, EVENT_OPTIONAL_COLUMNS, _EVENT_FIELDS
    else:
        raise ValueError(f"unknown import kind {kind!r}")
    known = (*required, *optional)
    cleaned = [name.strip().lower() for name in names]
    # Spreadsheets often end every line with a comma: unnamed columns at the end are ignored
    # (the rows' matching empty fields too, see `_stage_file`).
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    problems = []
    missing = [name for name in required if name not in cleaned]
    if missing:
        problems.append("missing required column(s): " + ", ".join(missing))
    repeated = sorted({name for name in cleaned if name and cleaned.count(name) > 1})
    if repeated:
        problems.append("column(s) named more than once: " + ", ".join(repeated))
    unknown = [name for name in cleaned if name not in known]
    if unknown:
        described = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            described.append((repr(name) if name else "an unnamed column") + hint)
        problems.append(
            "unknown column(s): " + ", ".join(described)
            + f"; a {kind} file has {', '.join(required)}"
            + (f" and optionally {', '.join(optional)}" if optional else "")
        )
    if problems:
        if len(names) == 1 and ";" in names[0]:
            problems.append("the header holds ';': the file must be comma-separated")
        raise HeaderInvalid("; ".join(problems))
    index = {name: i for i, name in enumerate(cleaned)}
    positions = tuple(index.get(name, len(cleaned)) for name, _ in fields)
    plan = tuple((parse, position) for (_, parse), position in zip(fields, positions, strict=True))
    return Header(
        kind=kind,
        width=len(cleaned),
        positions=positions,
        fields=fields,
        plan=plan,
        padded=len(cleaned) in positions,
    )


def validate_row(values: list[str], header: Header) -> list[Any]:
    """Check one row (as many values as the header has names) and return its values,
    converted, in staging-table order.

    Raises RowInvalid listing every column at fault, so one pass over the file finds all.
    """
    if header.padded:
        values = [*values, ""]
    try:
        return [parse(values[position]) for parse, position in header.plan]
    except ValueError:
        pass  # the slow path below names every fault, not just the first
    converted: list[Any] = []
    problems: list[str] | None = None
    for (name, parse), position in zip(header.fields, header.positions, strict=True):
        try:
            converted.append(parse(values[position]))
        except ValueError as exc:
            if problems is None:
                problems = []
            problems.append(f"{name}: {exc}")
    if problems:
        raise RowInvalid(problems)
    return converted


# --- SQL -----------------------------------------------------------------------------------

_STAGE = {"products": "lodestar_import_products", "events": "lodestar_import_events"}
_DUPS = {"products": "lodestar_import_product_repeats", "events": "lodestar_import_event_repeats"}

_CREATE_STAGE = {
    "products": """
        CREATE TEMP TABLE lodestar_import_products (
            line integer NOT NULL, product_id text NOT NULL, title text NOT NULL,
            description text NOT NULL, category text NOT NULL, subcategory text NOT NULL,
            brand text NOT NULL, price numeric(12, 2) NOT NULL, tags text[] NOT NULL,
            in_stock boolean, promoted boolean, created_at timestamptz NOT NULL
        ) ON COMMIT DROP""",
    "events": """
        CREATE TEMP TABLE lodestar_import_events (
            line integer NOT NULL, event_id text NOT NULL, user_id text NOT NULL,
            product_id text NOT NULL, event_type text NOT NULL, occurred_at timestamptz NOT NULL,
            session_id text, device_type text, dwell_ms integer
        ) ON COMMIT DROP""",
}

# Later lines that repeat a key seen on an earlier line, with the columns (named as in the
# file) in which they differ from the first occurrence.
_FIND_REPEATS = {
    "products": """
        CREATE TEMP TABLE lodestar_import_product_repeats ON COMMIT DROP AS
        WITH firsts AS (
            SELECT product_id, min(line) AS line FROM lodestar_import_products
            GROUP BY product_id HAVING count(*) > 1
        )
        SELECT s.line, f.line AS first_line, s.product_id AS key, NULL::text[] AS differs
        FROM lodestar_import_products s JOIN firsts f
          ON f.product_id = s.product_id AND s.line > f.line""",
    "events": """
        CREATE TEMP TABLE lodestar_import_event_repeats ON COMMIT DROP AS
        WITH repeated AS (
            SELECT event_id FROM lodestar_import_events GROUP BY event_id HAVING count(*) > 1
        ), firsts AS (
            SELECT DISTINCT ON (s.event_id) s.*
            FROM lodestar_import_events s JOIN repeated USING (event_id)
            ORDER BY s.event_id, s.line
        )
        SELECT s.line, f.line AS first_line, s.event_id AS key, array_remove(ARRAY[
            CASE WHEN s.user_id <> f.user_id THEN 'user_id' END,
            CASE WHEN s.product_id <> f.product_id THEN 'product_id' END,
            CASE WHEN s.event_type <> f.event_type THEN 'event_type' END,
            CASE WHEN s.occurred_at <> f.occurred_at THEN 'timestamp' END,
            CASE WHEN s.session_id IS DISTINCT FROM f.session_id THEN 'session_id' END,
            CASE WHEN s.device_type IS DISTINCT FROM f.device_type THEN 'device_type' END,
            CASE WHEN s.dwell_ms IS DISTINCT FROM f.dwell_ms THEN 'page_dwell_ms' END
        ], NULL) AS differs
        FROM lodestar_import_events s JOIN firsts f
          ON f.event_id = s.event_id AND s.line > f.line""",
}

_COUNT_PRODUCTS = """
    SELECT count(*) FILTER (WHERE p.product_id IS NULL),
           count(*) FILTER (WHERE p.product_id IS NOT NULL)
    FROM lodestar_import_products s LEFT JOIN products p USING (product_id)"""

# Empty in_stock/promoted cells (or absent columns) keep what is stored, or take the
# default for a new product; the join reads the stored value inside the same statement.
# Rows identical to what is stored are left alone, so `updated_at`, which a reindex uses to
# find changes, moves only for products that did change. Rows go in key order so that two
# imports touching the same keys take their locks in the same order and cannot deadlock.
_UPSERT_PRODUCTS = """
    INSERT INTO products (product_id, title, description, category, subcategory, brand, price,
                          tags, in_stock, promoted, created_at, updated_at)
    SELECT s.product_id, s.title, s.description, s.category, s.subcategory, s.brand, s.price,
           s.tags, coalesce(s.in_stock, p.in_stock, true), coalesce(s.promoted, p.promoted, false),
           s.created_at, now()
    FROM lodestar_import_products s LEFT JOIN products p USING (product_id)
    ORDER BY s.product_id COLLATE "C"
    ON CONFLICT (shop_id, product_id) DO UPDATE SET
        title = excluded.title, description = excluded.description,
        category = excluded.category, subcategory = excluded.subcategory,
        brand = excluded.brand, price = excluded.price, tags = excluded.tags,
        in_stock = excluded.in_stock, promoted = excluded.promoted,
        created_at = excluded.created_at, updated_at = now()
    WHERE (products.title, products.description, products.category, products.subcategory,
           products.brand, products.price, products.tags, products.in_stock, products.promoted,
           products.created_at)
          IS DISTINCT FROM
          (excluded.title, excluded.description, excluded.category, excluded.subcategory,
           excluded.brand, excluded.price, excluded.tags, excluded.in_stock, excluded.promoted,
           excluded.created_at)"""

_INSERT_USERS = """
    INSERT INTO users (user_id)
    SELECT DISTINCT user_id FROM lodestar_import_events
    ON CONFLICT (shop_id, user_id) DO NOTHING"""

_COUNT_EVENTS = """
    WITH unknown AS (
        SELECT s.product_id, count(*) AS events FROM lodestar_import_events s
        WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.product_id = s.product_id)
        GROUP BY s.product_id
    )
    SELECT (SELECT coalesce(sum(events), 0)::bigint FROM unknown),
           (SELECT count(*) FROM unknown),
           (SELECT count(*) FROM lodestar_import_events
            WHERE occurred_at > now() + interval '1 day')"""

_UNKNOWN_SAMPLE = """
    SELECT DISTINCT s.product_id FROM lodestar_import_events s
    WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.product_id = s.product_id)
    ORDER BY 1 LIMIT %s"""

# Key order, as for products: concurrent imports of overlapping files wait, never deadlock.
_INSERT_EVENTS = """
    INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at, session_id,
                        device_type, dwell_ms, price)
    SELECT s.event_id, s.user_id, s.product_id, s.event_type, s.occurred_at, s.session_id,
           s.device_type, s.dwell_ms, p.price
    FROM lodestar_import_events s LEFT JOIN products p USING (product_id)
    ORDER BY s.event_id COLLATE "C"
    ON CONFLICT (shop_id, event_id) DO NOTHING"""

# Run only when some events were already stored: how many of those differ from the file.
_COUNT_CONFLICTING = """
    SELECT count(*) FROM lodestar_import_events s JOIN events e USING (event_id)
    WHERE (s.user_id, s.product_id, s.event_type, s.occurred_at, s.session_id, s.device_type,
           s.dwell_ms)
          IS DISTINCT FROM
          (e.user_id, e.product_id, e.event_type, e.occurred_at, e.session_id, e.device_type,
           e.dwell_ms)"""


# --- reading and staging -------------------------------------------------------------------


@dataclass
class _Tally:
    """A report under construction."""

    kind: str
    source: str
    rows_read: int = 0
    rows_valid: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    refused: bool = False  # the file as a whole was refused (unreadable, bad header)
    staged: bool = False
    repeats_skipped: int = 0
    cleaned_rows: int = 0  # rows whose text held stray control characters, cleaned away
    warnings: list[str] = field(default_factory=list)

    def error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(RowError(line, reason))

    def refuse(self, line: int, reason: str) -> None:
        self.refused = True
        self.error(line, reason)

    def report(self, committed: bool, **written: Any) -> ImportReport:
        return ImportReport(
            kind=self.kind,
            rows_read=self.rows_read,
            rows_valid=self.rows_valid,
            inserted=written.pop("inserted", 0),
            updated=written.pop("updated", 0),
            skipped_duplicates=written.pop("skipped_duplicates", 0),
            errors=list(self.errors),
            error_count=self.error_count,
            committed=committed,
            source=self.source,
            warnings=list(self.warnings),
            cleaned_rows=self.cleaned_rows,
            **written,
        )


def _physical_lines(raw: IO[bytes], last_bad: list[int]) -> Iterator[str]:
    """The file's lines decoded one by one, so a line that is not UTF-8 is named by number.

    Such a line is decoded with replacement characters (the CSV reader keeps its place) and
    its number put in `last_bad[0]` for the caller to refuse the row it belongs to.
    """
    for number, line in enumerate(raw, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            last_bad[0] = number
            text = line.decode("utf-8", "replace")
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield text


def _stage_file(
    cur: psycopg.Cursor[Any],
    tally: _Tally,
    path: Path,
    progress: ProgressCallback | None,
) -> None:
    """Validate every row of `path` and COPY the valid ones into the staging table."""
    kind = tally.kind
    try:
        raw = path.open("rb")
    except OSError as exc:
        tally.refuse(0, f"cannot open {path}: {exc.strerror or exc}")
        return
    with raw:
        bytes_total = path.stat().st_size
        if raw.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            tally.refuse(1, "the file is UTF-16; save it as UTF-8")
            return
        raw.seek(0)
        last_bad = [0]
        reader = csv.reader(_physical_lines(raw, last_bad), strict=False)
        try:
            names = next(reader, None)
        except csv.Error as exc:
            tally.refuse(1, f"the header cannot be read as CSV: {exc}")
            return
        if names is None:
            tally.refuse(1, "the file is empty; a header line is expected")
            return
        if last_bad[0]:
            tally.refuse(1, "the header is not valid UTF-8")
            return
        try:
            header = check_header(kind, names)
        except HeaderInvalid as exc:
            tally.refuse(1, str(exc))
            return

        cur.execute(_CREATE_STAGE[kind])
        tally.staged = True
        columns = "line, " + (
            "product_id, title, description, category, subcategory, brand, price, tags, "
            "in_stock, promoted, created_at"
            if kind == "products"
            else "event_id, user_id, product_id, event_type, occurred_at, session_id, "
            "device_type, dwell_ms"
        )
        width = header.width
        # The text columns the parsers clean, and whether each may keep line breaks.
        cleanable = [(position, name == "description")
                     for (name, _), position in zip(header.fields, header.positions, strict=True)
                     if name in _CLEANED_COLUMNS and position < width]
        end = reader.line_num
        with cur.copy(f"COPY {_STAGE[kind]} ({columns}) FROM STDIN") as copy:
            write = copy.write_row
            while True:
                try:
                    for values in reader:
                        start = end + 1
                        end = reader.line_num
                        if not values or (not values[0] and not "".join(values).strip()):
                            continue
                        tally.rows_read += 1
                        if last_bad[0] >= start:
                            tally.error(start, "not valid UTF-8; save the file as UTF-8")
                            continue
                        if len(values) > width and not "".join(values[width:]).strip():
                            del values[width:]
                        if len(values) != width:
                            spans = f" (it runs to line {end}: is a quote left open?)" \
                                if end > start else ""
                            tally.error(
                                start,
                                f"has {len(values)} fields, the header has {width}{spans}",
                            )
                            continue
                        try:
                            row = validate_row(values, header)
                        except RowInvalid as exc:
                            tally.error(start, str(exc))
                            continue
                        tally.rows_valid += 1
                        if any(has_stray_controls(values[i], long) for i, long in cleanable):
                            tally.cleaned_rows += 1
                        row.insert(0, start)
                        write(row)
                        if progress is not None and tally.rows_read % PROGRESS_EVERY == 0:
                            progress(Progress(kind, tally.rows_read, raw.tell(), bytes_total))
                    break
                except csv.Error as exc:
                    start = end + 1
                    end = reader.line_num
                    tally.rows_read += 1
                    tally.error(start, f"cannot be read as CSV: {exc}")
        if progress is not None:
            progress(Progress(kind, tally.rows_read, bytes_total, bytes_total))
    _settle_repeats(cur, tally)


def _settle_repeats(cur: psycopg.Cursor[Any], tally: _Tally) -> None:
    """Find keys repeated within the file; refuse or skip the later lines, per the rules."""
    kind = tally.kind
    cur.execute(_FIND_REPEATS[kind])
    if not cur.rowcount:
        return
    key = "product_id" if kind == "products" else "event_id"
    if kind == "events":
        cur.execute(f"SELECT count(*) FROM {_DUPS[kind]} WHERE cardinality(differs) = 0")
        same = cast(tuple[int], cur.fetchone())[0]
        tally.repeats_skipped = same
        # Identical repeats are valid rows, merely redundant: they stay in rows_valid.
        where = "cardinality(differs) > 0"
    else:
        where = "true"
    cur.execute(f"SELECT count(*) FROM {_DUPS[kind]} WHERE {where}")
    refused = cast(tuple[int], cur.fetchone())[0]
    if refused:
        cur.execute(
            f"SELECT line, first_line, key, differs FROM {_DUPS[kind]} WHERE {where} "
            "ORDER BY line LIMIT %s",
            (MAX_ERRORS_KEPT,),
        )
        found = []
        for line, first_line, value, differs in cur.fetchall():
            if kind == "events":
                reason = (
                    f"{key}: {show(value)} repeats line {first_line} "
                    f"with a different {', '.join(differs)}"
                )
            else:
                reason = f"{key}: {show(value)} already appears on line {first_line}"
            found.append(RowError(line, reason))
        tally.errors = sorted([*tally.errors, *found], key=lambda e: e.line)[:MAX_ERRORS_KEPT]
        tally.error_count += refused
        tally.rows_valid -= refused
    cur.execute(f"DELETE FROM {_STAGE[kind]} s USING {_DUPS[kind]} d WHERE s.line = d.line")


def _count(cur: psycopg.Cursor[Any], sql: str) -> tuple[int, ...]:
    cur.execute(sql)
    return cast(tuple[int, ...], cur.fetchone())


def _write_products(cur: psycopg.Cursor[Any], tally: _Tally) -> ImportReport:
    new, existing = _count(cur, _COUNT_PRODUCTS)
    cur.execute(_UPSERT_PRODUCTS)
    # rowcount covers inserts and the updates whose WHERE held; unchanged rows are not in it.
    updated = cur.rowcount - new
    return tally.report(
        True, inserted=new, updated=updated, unchanged=existing - updated
    )


def _write_events(cur: psycopg.Cursor[Any], tally: _Tally) -> ImportReport:
    cur.execute(_INSERT_USERS)
    new_users = cur.rowcount
    unknown_events, unknown_products, future = _count(cur, _COUNT_EVENTS)
    sample: tuple[str, ...] = ()
    if unknown_products:
        cur.execute(_UNKNOWN_SAMPLE, (UNKNOWN_PRODUCT_SAMPLE,))
        sample = tuple(row[0] for row in cur.fetchall())
        tally.warnings.append(
            f"{unknown_events} event(s) name {unknown_products} product(s) not in the catalog,"
            f" e.g. {', '.join(sample[:3])}; they are kept, without a price"
        )
    if future:
        tally.warnings.append(
            f"{future} event(s) are more than a day in the future; recency is measured from"
            " the newest event, so they make every other event look old"
        )
    cur.execute(_INSERT_EVENTS)
    inserted = cur.rowcount
    staged = tally.rows_valid - tally.repeats_skipped
    already_stored = staged - inserted
    if already_stored:
        (conflicting,) = _count(cur, _COUNT_CONFLICTING)
        if conflicting:
            tally.warnings.append(
                f"{conflicting} event(s) reuse an event_id already stored with different"
                " values; the stored events were kept"
            )
    return tally.report(
        True,
        inserted=inserted,
        skipped_duplicates=tally.repeats_skipped + already_stored,
        new_users=new_users,
        unknown_products=unknown_products,
        unknown_product_events=unknown_events,
        unknown_product_sample=sample,
    )


# --- entry points --------------------------------------------------------------------------


def _driver_connection(conn: Connection) -> psycopg.Connection[Any]:
    return cast(psycopg.Connection[Any], conn.connection.driver_connection)


def _run(
    database: Database,
    files: Sequence[tuple[str, Path]],
    skip_invalid: bool,
    dry_run: bool,
    progress: ProgressCallback | None,
    pseudonymise: Callable[[str], str] | None = None,
) -> list[ImportReport]:
    """Stage every file, then write them all, or none, in one transaction."""
    tallies = [_Tally(kind, str(path)) for kind, path in files]
    with (
        database.engine.connect() as conn,
        conn.begin() as transaction,
        _driver_connection(conn).cursor() as cur,
    ):
        # The repeat search, the sorts and the joins run over whole files; the default
        # 4MB would send them to disk.
        cur.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        for tally, (_, path) in zip(tallies, files, strict=True):
            _stage_file(cur, tally, path, progress)
            if tally.kind == "events" and pseudonymise is not None:
                _pseudonymise_staged(cur, pseudonymise)
        refused = any(t.refused for t in tallies)
        invalid = any(t.error_count for t in tallies)
        if refused or (invalid and not skip_invalid) or dry_run:
            transaction.rollback()
            reports = [t.report(False) for t in tallies]
        else:
            # `files` lists products first, so that events see the new catalog (their
            # prices, and which products are unknown).
            reports = [
                _write_products(cur, t) if t.kind == "products" else _write_events(cur, t)
                for t in tallies
            ]
            transaction.commit()
    for report in reports:
        for warning in report.warnings:
            log.warning("%s: %s", report.source, warning)
    if refused or (invalid and not skip_invalid):
        raise ImportAborted(reports)
    return reports


def _pseudonymise_staged(cur: Any, pseudonymise: Callable[[str], str]) -> None:
    """Replace the staged events' shopper ids by their pseudonyms, before anything is
    compared with or written to the stored events."""
    cur.execute("SELECT DISTINCT user_id FROM lodestar_import_events")
    originals = [row[0] for row in cur.fetchall()]
    if not originals:
        return
    cur.execute(
        "UPDATE lodestar_import_events s SET user_id = m.pseudonym "
        "FROM unnest(%s::text[], %s::text[]) AS m(original, pseudonym) "
        "WHERE s.user_id = m.original",
        (originals, [pseudonymise(u) for u in originals]))


def import_products(
    database: Database,
    path: Path,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a products CSV: new products are inserted, known ones updated in place.

    All or nothing unless `skip_invalid`; raises ImportAborted (carrying the report) when
    nothing was written because of errors. `dry_run` validates and reports, writing nothing.
    """
    return _run(database, [("products", path)], skip_invalid, dry_run, progress)[0]


def import_events(
    database: Database,
    path: Path,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    pseudonymise: Callable[[str], str] | None = None,
) -> ImportReport:
    """Import an events CSV idempotently: events whose event_id is stored are skipped.

    Users seen for the first time are added. All or nothing unless `skip_invalid`; raises
    ImportAborted (carrying the report) when nothing was written because of errors.
    """
    return _run(database, [("events", path)], skip_invalid, dry_run, progress,
                pseudonymise)[0]


def import_files(
    database: Database,
    products: Path | None,
    events: Path | None,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    pseudonymise: Callable[[str], str] | None = None,
) -> list[ImportReport]:
    """Import a products file and/or an events file in one transaction, products first.

    Both files are always read in full so that one run reports every error in either; by
    default nothing is written unless both are clean (ImportAborted carries both reports).
    """
    files = [(kind, path) for kind, path in (("products", products), ("events", events))
             if path is not None]
    if not files:
        raise ValueError("nothing to import: give a products file, an events file or both")
    return _run(database, files, skip_invalid, dry_run, progress, pseudonymise)


__all__ = [
    "EVENT_COLUMNS",
    "PRODUCT_COLUMNS",
    "PRODUCT_OPTIONAL_COLUMNS",
    "Header",
    "HeaderInvalid",
    "ImportAborted",
    "ImportReport",
    "Progress",
    "RowError",
    "RowInvalid",
    "check_header",
    "import_events",
    "import_files",
    "import_products",
    "validate_row",
]
