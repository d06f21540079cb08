"""Play simulated demo-shop shoppers against a running Lodestar server.

A/B tests and interleaving experiments need traffic that behaves like shoppers: people who
want particular things, look at the top of a list more than its bottom, and click, cart and
buy what suits them. This module drives the HTTP API with such traffic; the shoppers and
their choice model are `data.simulated_shoppers`. The server attributes clicks to the list
they came from by the `request_id` the events carry, so the simulator only has to behave
and to post honest events.

One **visit** of one shopper (a session `sim-<seed>-<n>` of its own):

1. the home page, `GET /v1/users/{id}/home?session_id=…` (each row a list);
2. a product page: the product of the visit's first click, else one the shopper opens from
   outside the shop's lists (a `view` event without a request id); its
   `GET /v1/products/{pid}/similar` and `…/bought-together`, sent with `user_id` and
   `session_id` unless the server refuses those parameters (a 400: then without them,
   remembered for the rest of the run);
3. `GET /v1/users/{id}/recommendations?session_id=…`;
4. a search, `GET /v1/search?q=…&user_id=…&session_id=…`, the query made of a favourite
   subcategory's words;
5. `POST /v1/events` with the visit's events as one batch: `view` for the product page,
   `click`, `add_to_cart`, `purchase` for reactions to lists, each with the `request_id`
   of the list response that showed the product.

Event ids are `sim-<seed>-<n>-<k>`: deterministic, so playing the same seed twice against
one server is refused by its idempotency (reported as duplicates or rejected events); use a
new seed for a new run. Given the seed and the server's answers a run is deterministic:
visit n is by the shopper at position n of seeded permutations of the spec's users and
draws from its own generator seeded by (seed, n), whatever thread plays it.

Only loopback servers are played against (`check_loopback`): the simulator writes events
that train the models, and must never be pointed at a shop's production by mistake.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit

import httpx
import numpy as np

from data.demo_shop import ShopSpec
from data.parsers import parse_span
from data.simulated_shoppers import Reaction, Tastes, react

MAX_SHOPPERS = 100_000
MAX_DURATION_SECONDS = 3_600.0
MAX_CONCURRENCY = 32
LIST_LIMIT = 10  # items asked of every list (home rows: per_row)
EVENTS_PER_POST = 500  # below LODESTAR_EVENTS_BATCH_MAX (1000)
CATALOG_SAMPLES = 5  # products whose titles must match the spec's
MAX_ERROR_SAMPLES = 5

Progress = Callable[[int, int], None]


class HttpClient(Protocol):
    """What the runner needs of a client: `httpx.Client` with a base URL and the key set,
    or litestar's `TestClient` (a subclass) in tests."""

    def get(self, url: str, *, params: Mapping[str, str | int] | None = None
            ) -> httpx.Response: ...

    def post(self, url: str, *, json: Any = None) -> httpx.Response: ...


class SimulationRefused(Exception):
    """The run would not do what was asked (not loopback, a public key, another catalog):
    nothing was played."""


class ServerUnreachable(Exception):
    """The server did not answer the checks before the run."""


@dataclass(frozen=True)
class SimulationPlan:
    """What to play: `shoppers` visits (one per shopper, a shopper returning only once
    every user of the spec had a visit), for at most `duration_seconds`."""

    spec: ShopSpec
    shoppers: int
    duration_seconds: float = 60.0
    seed: int = 0
    concurrency: int = 1
    list_limit: int = LIST_LIMIT

    def __post_init__(self) -> None:
        if not 1 <= self.shoppers <= MAX_SHOPPERS:
            raise ValueError(f"shoppers must be 1..{MAX_SHOPPERS:,}")
        if not 0 < self.duration_seconds <= MAX_DURATION_SECONDS:
            raise ValueError("duration must be more than 0 and at most 1h")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be 1..{MAX_CONCURRENCY}")
        if self.seed < 0:
            raise ValueError("seed must be 0 or more")
        if not 1 <= self.list_limit <= 24:
            raise ValueError("list_limit must be 1..24")


@dataclass(frozen=True)
class SimulationSummary:
    """What a run did. `errors` counts 5xx answers, transport errors, and requests the
    server refused (4xx, other than the parameter probe of similar / bought-together) or
    answered without a list's request id; rejected events are counted on their own."""

    shoppers: int  # distinct shoppers who visited
    visits: int
    requests: int
    events_posted: int
    events_accepted: int
    events_duplicate: int
    events_rejected: int
    server_errors: int
    transport_errors: int
    refused_requests: int
    clicks: int
    carts: int
    purchases: int
    seconds: float
    stopped_by: Literal["shoppers", "duration"]
    events_conflict: int = 0  # of the rejected: an event id stored before, other content
    params_dropped: tuple[str, ...] = ()  # endpoints that refused user_id / session_id
    error_samples: tuple[str, ...] = ()

    @property
    def errors(self) -> int:
        return self.server_errors + self.transport_errors + self.refused_requests

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        """The summary as the command prints it."""
        stopped = "every shopper visited" if self.stopped_by == "shoppers" else "time was up"
        replayed = self.events_conflict + self.events_duplicate
        out = [
            f"simulated {self.shoppers:,} shoppers in {self.visits:,} visits over "
            f"{self.seconds:.1f}s ({stopped})",
            f"requests {self.requests:,} ({self.requests_per_second:.1f} req/s), events "
            f"posted {self.events_posted:,} (accepted {self.events_accepted:,}, duplicate "
            f"{self.events_duplicate:,}, rejected {self.events_rejected:,})",
            f"clicks {self.clicks:,}, add to cart {self.carts:,}, purchases {self.purchases:,}",
            f"errors {self.errors:,} (5xx {self.server_errors:,}, transport "
            f"{self.transport_errors:,}, refused {self.refused_requests:,})",
        ]
        if replayed:
            out.append(f"  {replayed:,} event ids were stored before: this --seed was played "
                       "against this server already; use a new one")
        out.extend(f"  {endpoint}: the server refused user_id/session_id; sent without"
                   for endpoint in self.params_dropped)
        out.extend(f"  {sample}" for sample in self.error_samples)
        return out


# --- checks before a run -------------------------------------------------------------------

LOOPBACK_NAMES = frozenset({"localhost"})


def check_loopback(url: str) -> None:
    """Refuse (`SimulationRefused`) a URL that is not http(s) on a loopback host:
    localhost, 127.0.0.0/8 or ::1."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise SimulationRefused(f"--url: {url!r} is not an http(s) URL")
    if host in LOOPBACK_NAMES:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SimulationRefused(
            f"--url: {host} is not a loopback address; the simulator plays only against a "
            "server on this machine (127.0.0.1, localhost, ::1)")


def check_server(client: HttpClient, tastes: Tastes, samples: int = CATALOG_SAMPLES) -> None:
    """Before playing: the server's catalog must be the spec's (titles of a few products
    compared), and the key must act for any shopper (server or admin scope; a public key
    would need a shopper token per shopper, which the simulator does not mint)."""
    n = tastes.n_products
    picks = sorted({0, n - 1, *np.linspace(0, n - 1, max(samples, 2)).astype(int).tolist()})
    spec = tastes.spec
    named = (f"the demo shop of --products {spec.products} --users {spec.users} "
             f"--shop-seed {spec.seed}")
    for i in picks:
        pid = tastes.product_ids[i]
        response = _preflight(client, f"/v1/products/{quote(pid, safe='')}")
        if response.status_code == 404:
            raise SimulationRefused(f"the server's catalog is not {named}: it has no {pid}")
        _refuse_unless_ok(response)
        title = response.json().get("title")
        if title != tastes.titles[i]:
            raise SimulationRefused(
                f"the server's catalog is not {named}: {pid} is {title!r} there, "
                f"{tastes.titles[i]!r} in the spec")
    user = quote(tastes.user_ids[0], safe="")
    response = _preflight(client, f"/v1/users/{user}/recommendations", {"limit": 1})
    if response.status_code == 403:
        raise SimulationRefused(
            "the key cannot act for shoppers (a public key needs a shopper token for each): "
            "give a server or admin key (--key, LODESTAR_SIMULATE_KEY or LODESTAR_ADMIN_KEY)")
    _refuse_unless_ok(response)


def _preflight(client: HttpClient, path: str,
               params: Mapping[str, str | int] | None = None) -> httpx.Response:
    try:
        return client.get(path, params=params)
    except httpx.TransportError as exc:
        raise ServerUnreachable(f"no answer from the server: {exc}") from exc


def _refuse_unless_ok(response: httpx.Response) -> None:
    if response.status_code == 401:
        raise SimulationRefused("the server refused the key (401): give a server or admin "
                                "key (--key, LODESTAR_SIMULATE_KEY or LODESTAR_ADMIN_KEY)")
    if response.status_code != 200:
        raise ServerUnreachable(f"GET {response.request.url.path} answered "
                                f"{response.status_code}: {_error_text(response)}")


# --- the run -------------------------------------------------------------------------------


@dataclass
class _Tally:
    """Counts of one visit, merged into the run's under a lock."""

    users: set[int] = field(default_factory=set)
    visits: int = 0
    requests: int = 0
    events_posted: int = 0
    events_accepted: int = 0
    events_duplicate: int = 0
    events_rejected: int = 0
    events_conflict: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    refused_requests: int = 0
    clicks: int = 0
    carts: int = 0
    purchases: int = 0
    error_samples: list[str] = field(default_factory=list)

    def add(self, other: _Tally) -> None:
        self.users |= other.users
        for name in ("visits", "requests", "events_posted", "events_accepted",
                     "events_duplicate", "events_rejected", "events_conflict", "server_errors",
                     "transport_errors", "refused_requests", "clicks", "carts", "purchases"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        room = MAX_ERROR_SAMPLES - len(self.error_samples)
        self.error_samples.extend(other.error_samples[:max(room, 0)])

    def note(self, sample: str) -> None:
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(sample)


def shopper_order(n_users: int, visits: int, seed: int) -> list[int]:
    """The user index of each visit: seeded permutations of all users, one after another,
    so nobody returns before everybody has visited."""
    order: list[int] = []
    cycle = 0
    while len(order) < visits:
        order.extend(np.random.default_rng([seed, cycle]).permutation(n_users).tolist())
        cycle += 1
    return order[:visits]


class Simulator:
    """One run: the plan, the shoppers' tastes, the client, and the shared tally."""

    def __init__(self, client: HttpClient, plan: SimulationPlan, tastes: Tastes) -> None:
        self.client = client
        self.plan = plan
        self.tastes = tastes
        self.order = shopper_order(tastes.n_users, plan.shoppers, plan.seed)
        self._lock = threading.Lock()
        self._total = _Tally()
        self._next = 0
        # Endpoints whose answer to user_id / session_id is known: True accepted, False not.
        self._personal: dict[str, bool] = {}

    def run(self, progress: Progress | None = None,
            clock: Callable[[], float] = time.monotonic) -> SimulationSummary:
        """Play visits on `plan.concurrency` threads until every shopper has visited or
        the duration is over (a visit that has started is finished and posted)."""
        began = clock()
        deadline = began + self.plan.duration_seconds
        timed_out = threading.Event()

        def worker() -> None:
            while True:
                with self._lock:
                    if self._next >= self.plan.shoppers:
                        return
                    if clock() >= deadline:
                        timed_out.set()
                        return
                    n = self._next
                    self._next += 1
                tally = self.visit(n)
                with self._lock:
                    self._total.add(tally)
                    done = self._total.visits
                if progress is not None:
                    progress(done, self.plan.shoppers)

        with ThreadPoolExecutor(max_workers=self.plan.concurrency) as pool:
            for future in [pool.submit(worker) for _ in range(self.plan.concurrency)]:
                future.result()
        total = self._total
        return SimulationSummary(
            shoppers=len(total.users), visits=total.visits, requests=total.requests,
            events_posted=total.events_posted, events_accepted=total.events_accepted,
            events_duplicate=total.events_duplicate, events_rejected=total.events_rejected,
            events_conflict=total.events_conflict,
            server_errors=total.server_errors, transport_errors=total.transport_errors,
            refused_requests=total.refused_requests, clicks=total.clicks, carts=total.carts,
            purchases=total.purchases, seconds=clock() - began,
            stopped_by="duration" if timed_out.is_set() else "shoppers",
            params_dropped=tuple(sorted(k for k, v in self._personal.items() if not v)),
            error_samples=tuple(total.error_samples),
        )

    # --- one visit -------------------------------------------------------------------------

    def visit(self, n: int) -> _Tally:
        """Visit `n`: home, a product page, recommendations, a search, then its events."""
        return _Visit(self, n).play()

    def accepts_personal(self, endpoint: str) -> bool | None:
        with self._lock:
            return self._personal.get(endpoint)

    def learn_personal(self, endpoint: str, accepted: bool) -> None:
        with self._lock:
            self._personal.setdefault(endpoint, accepted)


class _Visit:
    """The state of one visit: its shopper, session, generator, events and counts."""

    def __init__(self, sim: Simulator, n: int) -> None:
        self.sim = sim
        self.tastes = sim.tastes
        self.limit = sim.plan.list_limit
        self.user = sim.order[n]
        self.user_id = self.tastes.user_ids[self.user]
        self.session_id = f"sim-{sim.plan.seed}-{n}"
        self.rng = np.random.default_rng([sim.plan.seed, n])
        self.events: list[dict[str, Any]] = []
        self.first_click: tuple[str, str] | None = None  # (product, request id)
        self.carted: set[str] = set()
        self.tally = _Tally(users={self.user}, visits=1)

    def play(self) -> _Tally:
        user = quote(self.user_id, safe="")
        home = self.get(f"/v1/users/{user}/home",
                        {"session_id": self.session_id, "per_row": self.limit})
        if home is not None:
            for row, shelf in enumerate(home.get("rows", [])):
                self.shown(shelf.get("items", []), home["request_id"], row)

        if self.first_click is not None:
            page, from_list = self.first_click
        else:
            page = self.tastes.product_ids[self.tastes.landing_product(self.user, self.rng)]
            from_list = None
        self.event(page, "view", from_list)
        product = quote(page, safe="")
        for endpoint in ("similar", "bought-together"):
            shown = self.get_personal(f"/v1/products/{product}/{endpoint}", endpoint)
            if shown is not None:
                self.shown(shown.get("items", []), shown["request_id"])

        recs = self.get(f"/v1/users/{user}/recommendations",
                        {"limit": self.limit, "session_id": self.session_id})
        if recs is not None:
            self.shown(recs.get("items", []), recs["request_id"])

        query = self.tastes.search_query(self.user, self.rng)
        found = self.get("/v1/search", {"q": query, "user_id": self.user_id,
                                        "session_id": self.session_id, "limit": self.limit})
        if found is not None:
            self.shown(found.get("items", []), found["request_id"])

        for lo in range(0, len(self.events), EVENTS_PER_POST):
            self.post_events(self.events[lo:lo + EVENTS_PER_POST])
        return self.tally

    def shown(self, items: Sequence[Mapping[str, Any]], request_id: str, row: int = 0) -> None:
        """The shopper's reactions to a list, turned into events."""
        ids = [str(item["product_id"]) for item in items]
        for reaction in react(self.tastes, self.user, ids, self.rng, row=row):
            self.reacted(reaction, request_id)

    def reacted(self, reaction: Reaction, request_id: str) -> None:
        pid = reaction.product_id
        self.event(pid, "click", request_id)
        self.tally.clicks += 1
        if self.first_click is None:
            self.first_click = (pid, request_id)
        # A product goes into the cart, and is bought, once per visit.
        if reaction.add_to_cart and pid not in self.carted:
            self.carted.add(pid)
            self.event(pid, "add_to_cart", request_id)
            self.tally.carts += 1
            if reaction.purchase:
                self.event(pid, "purchase", request_id)
                self.tally.purchases += 1

    def event(self, product_id: str, event_type: str, request_id: str | None) -> None:
        body: dict[str, Any] = {
            "event_id": f"{self.session_id}-{len(self.events)}",
            "user_id": self.user_id,
            "product_id": product_id,
            "event_type": event_type,
            "session_id": self.session_id,
            "device_type": self.tastes.device(self.user),
        }
        if request_id is not None:
            body["request_id"] = request_id
        self.events.append(body)

    # --- requests --------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, str | int]) -> dict[str, Any] | None:
        """A list response, or None (counted) when the request failed."""
        response = self.request("GET", path, params)
        if response is None:
            return None
        return self.listed(path, response)

    def get_personal(self, path: str, endpoint: str) -> dict[str, Any] | None:
        """A product-page list, sent with the shopper and session unless the server refuses
        them (a 400: sent again without, and not offered again in this run)."""
        plain: dict[str, str | int] = {"limit": self.limit}
        if self.sim.accepts_personal(endpoint) is False:
            return self.get(path, plain)
        personal = {**plain, "user_id": self.user_id, "session_id": self.session_id}
        response = self.request("GET", path, personal)
        if response is None:
            return None
        if response.status_code == 400:
            body = self.get(path, plain)
            if body is not None:
                self.sim.learn_personal(endpoint, accepted=False)
            return body
        answer = self.listed(path, response)
        if answer is not None:
            self.sim.learn_personal(endpoint, accepted=True)
        return answer

    def listed(self, path: str, response: httpx.Response) -> dict[str, Any] | None:
        """The body of a list response: a 200 with a `request_id` (every list carries one,
        and every event refers to one); anything else is counted as an error."""
        if response.status_code != 200:
            self.failed("GET", path, response)
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("request_id"), str):
            self.tally.refused_requests += 1
            self.tally.note(f"GET {_template(path)}: a 200 without a list's request_id")
            return None
        return body

    def post_events(self, events: list[dict[str, Any]]) -> None:
        self.tally.events_posted += len(events)
        response = self.request("POST", "/v1/events", None, {"events": events})
        if response is None:
            return
        if response.status_code != 200:
            self.tally.events_rejected += len(events)
            self.failed("POST", "/v1/events", response)
            return
        result = response.json()
        self.tally.events_accepted += int(result.get("accepted", 0))
        self.tally.events_duplicate += int(result.get("duplicates", 0))
        rejected = int(result.get("rejected", 0))
        self.tally.events_rejected += rejected
        refused = [r.get("error") or {} for r in result.get("results", [])
                   if r.get("status") == "rejected"]
        self.tally.events_conflict += sum(e.get("code") == "conflict" for e in refused)
        if refused:
            error = refused[0]
            self.tally.note(f"POST /v1/events: {rejected} rejected, e.g. "
                            f"{error.get('code')}: {error.get('message')}")

    def request(self, method: str, path: str, params: Mapping[str, str | int] | None,
                body: Any = None) -> httpx.Response | None:
        """Send one request; a transport error or a 5xx is counted here."""
        self.tally.requests += 1
        try:
            if method == "GET":
                response = self.sim.client.get(path, params=params)
            else:
                response = self.sim.client.post(path, json=body)
        except httpx.TransportError as exc:
            self.tally.transport_errors += 1
            self.tally.note(f"{method} {_template(path)}: {type(exc).__name__}: {exc}")
            return None
        if response.status_code >= 500:
            self.tally.server_errors += 1
            self.tally.note(f"{method} {_template(path)}: {response.status_code} "
                            f"{_error_text(response)}")
            return None
        return response

    def failed(self, method: str, path: str, response: httpx.Response) -> None:
        """A 4xx the simulator did not expect: counted as an error."""
        self.tally.refused_requests += 1
        self.tally.note(f"{method} {_template(path)}: {response.status_code} "
                        f"{_error_text(response)}")


def _template(path: str) -> str:
    """A path with its ids replaced, so error samples group by endpoint."""
    return re.sub(r"/(users|products)/[^/]+", r"/\1/{id}", path)


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return f"{error.get('code')}: {error.get('message')}"
    except (ValueError, AttributeError):
        return response.text[:200]


def simulate(client: HttpClient, plan: SimulationPlan, tastes: Tastes | None = None,
             progress: Progress | None = None, *, check: bool = True) -> SimulationSummary:
    """Check the server (catalog and key, unless `check` is off), then play the plan.

    Raises `SimulationRefused` when the server is not the spec's shop or the key cannot act
    for shoppers, `ServerUnreachable` when the checks get no usable answer; errors during
    the run are counted in the summary, never raised.
    """
    tastes = tastes if tastes is not None else Tastes.of(plan.spec)
    if tastes.spec != plan.spec:
        raise ValueError("tastes were built for another spec than the plan's")
    if check:
        check_server(client, tastes)
    return Simulator(client, plan, tastes).run(progress)


_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(text: str) -> float:
    """Seconds in "60s", "5m", "1h", "1m30s" or "90" (seconds); more than 0, at most 1h."""
    compact = text.strip().lower().replace(" ", "")
    try:
        seconds = float(compact) if _SECONDS.fullmatch(compact) else parse_span(compact)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (e.g. 60s, 5m, 1h)") from None
    if not 0 < seconds <= MAX_DURATION_SECONDS:
        raise ValueError(f"{text!r}: must be more than 0 and at most 1h")
    return seconds
