"""`lodestar simulate`: play the demo shop's shoppers against a running server.

The traffic is for A/B tests and interleaving experiments on a local demo: shoppers with the
tastes the demo generator gave them browse, search, click, cart and buy over HTTP
(`data.simulate`). Loopback servers only.

Exit codes: 0 played without errors; 1 the server could not be reached, or the run had
errors (5xx answers, transport errors, requests or events the server refused), since
experiment results over traffic that did not arrive intact would mislead; 2 bad usage or a
refusal before anything was played (not loopback, a public key, another catalog).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable
from typing import Any

from models.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
KEY_VARIABLE = "LODESTAR_SIMULATE_KEY"


def add_parser(sub: Any) -> None:
    from api.cli import DEMO_SHOP

    p = sub.add_parser(
        "simulate",
        help="play the demo shop's shoppers against a running server on this machine "
             "(traffic for experiments)",
        description="Synthetic shoppers of the demo shop visit a running Lodestar server: "
                    "home page, a product page, recommendations and a search; they click "
                    "with a position bias and by their own tastes, and post the events with "
                    "the request id of the list that showed each product. Loopback only.")
    p.add_argument("--shoppers", type=int, default=100,
                   help="visits to play, one per shopper (1..100000; default 100)")
    p.add_argument("--duration", default="60s", metavar="TIME",
                   help="stop after this long even if shoppers remain: 60s, 5m, up to 1h "
                        "(default 60s)")
    p.add_argument("--url", default="http://127.0.0.1:8000",
                   help="the server (loopback only; default http://127.0.0.1:8000)")
    p.add_argument("--key", default=None,
                   help=f"a server or admin key (default: ${KEY_VARIABLE}, else "
                        "LODESTAR_ADMIN_KEY)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the shoppers' draws and of the session and event ids (default: "
                        "a new one each run, printed, so that runs against one server do not "
                        "repeat event ids; give it to replay a run on a fresh shop)")
    p.add_argument("--concurrency", type=int, default=4,
                   help="shoppers visiting at once, each on a thread (1..32; default 4)")
    p.add_argument("--shop-seed", type=int, default=DEMO_SHOP["seed"],
                   help=f"seed of the demo shop being served (default {DEMO_SHOP['seed']}, "
                        "as `lodestar demo`)")
    p.add_argument("--products", type=int, default=DEMO_SHOP["products"],
                   help=f"products of the demo shop (default {DEMO_SHOP['products']})")
    p.add_argument("--users", type=int, default=DEMO_SHOP["users"],
                   help=f"users of the demo shop (default {DEMO_SHOP['users']})")
    p.set_defaults(handler=cmd_simulate)


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    import httpx

    from api.cli import CliError, _progress_printer
    from data.demo_shop import ShopSpec
    from data.simulate import (
        ServerUnreachable,
        SimulationPlan,
        SimulationRefused,
        check_loopback,
        parse_duration,
        simulate,
    )

    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    try:
        check_loopback(args.url)
        duration = parse_duration(args.duration)
        spec = ShopSpec(products=args.products, users=args.users, seed=args.shop_seed)
        plan = SimulationPlan(spec=spec, shoppers=args.shoppers, duration_seconds=duration,
                              seed=seed, concurrency=args.concurrency)
    except SimulationRefused as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except ValueError as exc:
        raise CliError(f"simulate: {exc}", EXIT_USAGE) from None
    key = args.key or os.environ.get(KEY_VARIABLE) or settings.access.admin_key
    if not key:
        raise CliError(f"simulate: give a server or admin key: --key, ${KEY_VARIABLE} or "
                       "LODESTAR_ADMIN_KEY", EXIT_USAGE)
    limits = httpx.Limits(max_connections=plan.concurrency,
                          max_keepalive_connections=plan.concurrency)
    with httpx.Client(base_url=args.url, headers={"Authorization": f"Bearer {key}"},
                      timeout=30.0, limits=limits) as client:
        try:
            summary = simulate(client, plan, progress=_visits_printer(_progress_printer()))
        except SimulationRefused as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        except ServerUnreachable as exc:
            raise CliError(f"{args.url}: {exc}", EXIT_FAILED) from None
    print(f"seed {seed} (--seed {seed} replays these shoppers)")
    for line in summary.lines():
        print(line)
    if summary.errors or summary.events_rejected:
        print(f"lodestar: simulate: {summary.errors:,} errors and {summary.events_rejected:,} "
              "events rejected", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _visits_printer(report: Callable[[str, int, int], None]) -> Callable[[int, int], None]:
    """The runner's progress (visits done of planned) as the command's progress bar."""

    def progress(done: int, total: int) -> None:
        report("visits", done, total)

    return progress
