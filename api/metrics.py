"""Counters and gauges for `GET /metrics`, in the Prometheus text format."""

from __future__ import annotations

import threading
from collections import Counter


class Metrics:
    """Process-local counters, safe to bump from request threads."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._lock = threading.Lock()

    def count(self, name: str, **labels: str) -> None:
        with self._lock:
            self._counts[(name, tuple(sorted(labels.items())))] += 1

    def value(self, name: str, **labels: str) -> int:
        return self._counts[(name, tuple(sorted(labels.items())))]

    def render(self, gauges: dict[str, float]) -> str:
        """Counters and the given gauges as Prometheus text exposition."""
        lines = []
        with self._lock:
            counts = sorted(self._counts.items())
        seen: set[str] = set()
        for (name, labels), value in counts:
            if name not in seen:
                lines.append(f"# TYPE {name} counter")
                seen.add(name)
            shown = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            lines.append(f"{name}{{{shown}}} {value}" if shown else f"{name} {value}")
        for gauge, level in sorted(gauges.items()):
            lines += [f"# TYPE {gauge} gauge", f"{gauge} {level:g}"]
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
