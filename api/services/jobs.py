"""Reindex as a background job of the API process: started over HTTP, watched over HTTP.

The job runs in a thread of the process that accepted it, beside the requests it keeps
serving; its stage and progress go to Postgres (models.jobs) so that any worker can
report on it. One reindex at a time: a job is refused while another reindex job runs
(the jobs table's unique index) or while any reindex holds the advisory lock (one started
from the command line, say).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import text

from api.errors import ApiError
from api.resources import Resources
from indexing.pipeline import ReindexBusy, reindex
from models import jobs
from models.index_versions import REINDEX_LOCK_KEY

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
    thread = threading.Thread(target=_run, args=(resources, job_id), name=f"reindex-{job_id}",
                              daemon=True)
    thread.start()
    return job_id


def _run(resources: Resources, job_id: str) -> None:
    database = resources.database
    try:
        result = reindex(database, resources.store, resources.settings, resources.encoder(),
                         progress=jobs.Progress(database, job_id))
    except ReindexBusy as exc:
        jobs.fail(database, job_id, f"refused: {exc}")
    except BaseException as exc:  # a job must end in a state, whatever went wrong
        log.exception("reindex job %s failed", job_id)
        jobs.fail(database, job_id, f"{type(exc).__name__}: {exc}")
    else:
        resources.index.refresh()
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
            "AND ((classid::bigint << 32) | objid::bigint) = :k)"),
            {"k": REINDEX_LOCK_KEY}).scalar())
