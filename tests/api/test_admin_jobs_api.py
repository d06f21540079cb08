"""Reindex as a background job through the real stack, while the API keeps serving."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import psutil
import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.resources import Resources
from indexing.pipeline import reindex
from models import index_versions
from tests.clients import ADMIN_KEY, api_client

KEY = {"X-Admin-Key": ADMIN_KEY}
Client = TestClient  # type: ignore[type-arg]


@pytest.fixture(scope="module")
def admin(resources: Resources) -> Iterator[Client]:
    with api_client(create_app(resources=resources)) as c:
        yield c


def test_reindex_job_runs_while_reads_keep_succeeding(
    admin: Client, resources: Resources
) -> None:
    live = resources.index.live
    assert live is not None
    before = live.version
    started = admin.post("/v1/admin/reindex", headers=KEY)
    assert started.status_code == 202, started.text
    job = started.json()["job_id"]
    assert admin.post("/v1/admin/reindex", headers=KEY).status_code == 409

    reads = failures = 0
    deadline = time.monotonic() + 300
    status = admin.get(f"/v1/admin/jobs/{job}", headers=KEY).json()
    while status["status"] == "running" and time.monotonic() < deadline:
        for url in ("/v1/users/U000001/recommendations?limit=5",
                    "/v1/products/P000001/similar?limit=5", "/v1/trending?limit=5"):
            response = admin.get(url)
            reads += 1
            failures += response.status_code != 200 or not response.json()["items"]
        status = admin.get(f"/v1/admin/jobs/{job}", headers=KEY).json()
    assert status["status"] == "done", status["error"]
    assert reads > 0 and failures == 0
    assert status["result"]["version"] == before + 1
    assert status["stage"] is not None and status["finished_at"] is not None
    resources.refresh_index()  # what the server's poller does every few seconds
    assert resources.index.live is not None and resources.index.live.version == before + 1
    audited = admin.get("/v1/admin/audit?action=reindex.start").json()["items"]
    assert any(e["outcome"] == "ok" and e["details"]["job_id"] == job for e in audited)
    assert any(e["outcome"] == "refused" and e["details"]["code"] == "reindex_running"
               for e in audited)


def test_a_reindex_held_elsewhere_refuses_the_job(admin: Client, resources: Resources) -> None:
    with index_versions.reindex_lock(resources.database) as got:
        assert got
        response = admin.post("/v1/admin/reindex", headers=KEY)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reindex_running"


def test_unknown_jobs_are_not_found(admin: Client) -> None:
    assert admin.get("/v1/admin/jobs/nope", headers=KEY).status_code == 404


def test_a_killed_job_leaves_the_live_index_serving_and_the_next_run_cleans_up(
    admin: Client, resources: Resources
) -> None:
    resources.refresh_index()
    live = resources.index.live
    assert live is not None
    job = admin.post("/v1/admin/reindex", headers=KEY).json()["job_id"]
    deadline = time.monotonic() + 120
    child = None
    while child is None and time.monotonic() < deadline:
        child = next((p for p in psutil.process_iter(["cmdline"])
                      if job in (p.info["cmdline"] or [])), None)
        time.sleep(0.1)
    assert child is not None
    # Into the build, past the catalog: killed as the OOM killer or a reboot would.
    while (admin.get(f"/v1/admin/jobs/{job}", headers=KEY).json()["stage"] in (None, "catalog")
           and time.monotonic() < deadline):
        time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    status = admin.get(f"/v1/admin/jobs/{job}", headers=KEY).json()
    while status["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
        status = admin.get(f"/v1/admin/jobs/{job}", headers=KEY).json()
    assert status["status"] == "failed" and "exited" in status["error"]

    resources.refresh_index()
    assert resources.index.live is not None and resources.index.live.version == live.version
    assert admin.get("/v1/users/U000001/recommendations?limit=5").json()["items"]
    # The next reindex cleans up what the killed one left and goes live.
    result = reindex(resources.database, resources.store, resources.settings,
                     resources.encoder())
    versions = {v.version: v.status for v in index_versions.all_versions(resources.database)}
    assert "building" not in versions.values()
    assert versions[result.version] == "live"
    resources.refresh_index()
