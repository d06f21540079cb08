"""Reindex as a background job: started over HTTP, watched over HTTP.

The job runs `lodestar reindex --job ID` in a child process of the worker that accepted
it, with that worker's settings, while the worker keeps serving; its stage and progress go
to Postgres (models.jobs) so that any worker can report on it. One reindex at a time: a
job is refused while another reindex job runs (the jobs table's unique index) or while
any reindex holds the advisory lock (one started from the command line, say).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import text

from api.errors import ApiError
from api.resources import Resources
from indexing.encoder import Encoder
from indexing.pipeline import ReindexBusy, reindex
from indexing.vectorstore import VectorStore
from models import jobs
from models.db import Database
from models.index_versions import REINDEX_LOCK_KEY
from models.settings import Settings
from models.tenancy import current_shop

log = logging.getLogger(__name__)

REINDEX = "reindex"


class ReindexRunning(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(409, "reindex_running", message)


def start_reindex(resources: Resources) -> str:
    """Start a reindex job and return its id; ReindexRunning if one is under way."""
    database = resources.database
    if _lock_held(resources):
        raise ReindexRunning("a reindex is running (started elsewhere)")
    try:
        job_id = jobs.create(database, REINDEX)
    except jobs.JobBusy as exc:
        raise ReindexRunning(str(exc)) from None
    # A process of its own: the vector engine's index build holds the interpreter lock
    # for minutes, and a thread of this one would stop it answering meanwhile.
    # The database this worker uses: an embedded one is joined by the child as one of the
    # server's users (it stays up until the job ends, even if this worker stops first); any
    # other is reached by its URL.
    env = {**os.environ, **resources.settings.to_env()}
    command = [sys.executable, "-m", "api.cli", "--shop", current_shop(), "reindex",
               "--job", job_id]
    if database.embedded_dir is not None:
        command += ["--embedded-postgres", str(database.embedded_dir)]
    else:
        env["DATABASE_URL"] = database.url
    child = subprocess.Popen(
        command, env=env,
        cwd=Path(__file__).resolve().parents[2], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    threading.Thread(target=_watch, args=(database, job_id, child), name=f"job-{job_id}",
                     daemon=True).start()
    return job_id


def _watch(database: Database, job_id: str, child: subprocess.Popen[bytes]) -> None:
    """Reap the child; a job it could not close itself (a crash) is marked failed."""
    _, err = child.communicate()
    if child.returncode != 0:
        info = jobs.get(database, job_id)
        if info is not None and info.status in ("running", "lost"):
            # Its own error line, not the log lines around it.
            lines = [ln for ln in err.decode(errors="replace").splitlines()
                     if ln.startswith("lodestar:") or "Error" in ln]
            jobs.fail(database, job_id, f"the reindex process exited with code "
                                        f"{child.returncode}" + (f": {lines[-1]}" if lines else ""))


def run_job(database: Database, store: VectorStore, settings: Settings, encoder: Encoder,
            job_id: str) -> None:
    """The reindex of a job, in the process `lodestar reindex --job` runs: progress to the
    jobs table, and the job closed as done or failed."""
    try:
        result = reindex(database, store, settings, encoder,
                         progress=jobs.Progress(database, job_id))
    except ReindexBusy as exc:
        jobs.fail(database, job_id, f"refused: {exc}")
        raise
    except BaseException as exc:  # a job must end in a state, whatever went wrong
        log.exception("reindex job %s failed", job_id)
        jobs.fail(database, job_id, f"{type(exc).__name__}: {exc}")
        raise
    jobs.finish(database, job_id, {
        "version": result.version, "n_items": result.n_items,
        "n_items_with_cf": result.n_items_with_cf, "n_users": result.n_users,
        "n_events": result.n_events, "embedded": result.embedded,
        "timings": result.timings,
    })


def _lock_held(resources: Resources) -> bool:
    with resources.database.engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND objsubid = 2 AND classid::bigint = :k "
            "AND objid::bigint = (hashtext(:shop)::bigint & 4294967295))"),
            {"k": REINDEX_LOCK_KEY, "shop": current_shop()}).scalar())
