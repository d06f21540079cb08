"""The key a benchmark's servers run with: every /v1 route needs one. A random bootstrap
admin key per run, handed to the servers it starts and sent by its clients."""

from __future__ import annotations

import os
import secrets

BENCH_KEY = secrets.token_hex(24)
HEADERS = {"Authorization": f"Bearer {BENCH_KEY}"}


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a `lodestar serve` a benchmark starts."""
    return {**os.environ, "LODESTAR_ADMIN_KEY": BENCH_KEY, **extra}
