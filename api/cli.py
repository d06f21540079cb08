"""`lodestar`: the one command-line entry point.

Exit codes: 0 done, 1 failed, 2 bad usage or bad input, 3 another reindex is running.
Errors print as one line on stderr, without a traceback (set LODESTAR_DEBUG=1 for one).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from api import cli_export, cli_keys, cli_simulate
from models.settings import Settings, SettingsError
from models.tenancy import DEFAULT_SHOP, SHOP_ID, current_shop, for_shop

log = logging.getLogger("lodestar")
_T = TypeVar("_T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

DEMO_SHOP = {"products": 10_000, "users": 5_000, "events": 200_000, "seed": 7}


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _environment_defaults(args.verbose)
    _stop_cleanly_on_sigterm()
    try:
        settings = Settings.from_env()
        _configure_logging(settings, args.verbose, args.command)
        handler: Callable[[argparse.Namespace, Settings], int] = args.handler
        if not SHOP_ID.fullmatch(args.shop):
            raise CliError(f"--shop: {args.shop!r} is not a shop id (a-z, 0-9, _ and -, "
                           "up to 40)", EXIT_USAGE)
        with for_shop(args.shop):
            return handler(args, settings)
    except SettingsError as exc:
        print(f"lodestar: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"lodestar: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("lodestar: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("LODESTAR_DEBUG"):
            raise
        print(f"lodestar: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lodestar",
        description="Search and recommendations for online shops. Settings come from the "
        "environment (LODESTAR_*, DATABASE_URL, QDRANT_URL): see `lodestar settings`.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="show library log lines too (-vv: debug)")
    parser.add_argument("--shop", default=DEFAULT_SHOP, metavar="SHOP",
                        help="the shop the command works on (default: default); each shop "
                             "has its own catalog, shoppers, events, index versions and keys")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="serve the HTTP API over an existing data dir")
    _add_host_port(p)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("demo", help="build a demo shop (first time), index it and serve it")
    _add_host_port(p)
    p.add_argument("--products", type=int, default=DEMO_SHOP["products"])
    p.add_argument("--users", type=int, default=DEMO_SHOP["users"])
    p.add_argument("--events", type=int, default=DEMO_SHOP["events"])
    p.add_argument("--seed", type=int, default=DEMO_SHOP["seed"])
    p.add_argument("--no-serve", action="store_true", help="prepare everything, then exit")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("migrate", help="apply pending database migrations")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("generate", help="write a synthetic shop into Postgres")
    p.add_argument("--products", type=int, default=DEMO_SHOP["products"])
    p.add_argument("--users", type=int, default=DEMO_SHOP["users"])
    p.add_argument("--events", type=int, default=DEMO_SHOP["events"])
    p.add_argument("--seed", type=int, default=DEMO_SHOP["seed"])
    p.add_argument("--replace", action="store_true",
                   help="empty products, users and events first")
    p.set_defaults(handler=cmd_generate)

    p = sub.add_parser("import", help="load products and/or events from CSV files")
    p.add_argument("--products", type=Path, help="products CSV")
    p.add_argument("--events", type=Path, help="events CSV")
    p.add_argument("--skip-invalid", action="store_true",
                   help="load the valid rows and report the rest (default: all or nothing)")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("reindex", help="build a new index version from Postgres and switch to it")
    p.add_argument("--schedule", metavar="INTERVAL", default=None,
                   help="keep running: reindex now and then every INTERVAL (30m, 6h, 1d)")
    p.add_argument("--job", default=None, help=argparse.SUPPRESS)  # run by the admin API
    p.add_argument("--embedded-postgres", type=Path, default=None,
                   help=argparse.SUPPRESS)  # the API worker's embedded server, to join
    p.add_argument("--tune", action="store_true",
                   help="run `lodestar tune` first (its defaults), then reindex with the winner")
    p.set_defaults(handler=cmd_reindex)

    p = sub.add_parser(
        "tune", help="search ALS settings and the hybrid's blend weights on the shop's "
                     "validation window; later reindexes use the winner")
    p.add_argument("--trials", type=int, default=12,
                   help="most ALS settings tried (default 12)")
    p.add_argument("--blend-trials", type=int, default=12,
                   help="most blends tried over an index built with the best ALS settings "
                        "(default 12; 0: ALS alone)")
    p.add_argument("--budget-seconds", type=float, default=600.0,
                   help="stop starting trials after this long (default 600): ALS trials "
                        "after half of it, blend trials after all of it")
    p.add_argument("--test-days", type=float, default=14.0,
                   help="the test period never read; the validation period is as long")
    p.add_argument("--max-users", type=int, default=2_000,
                   help="shoppers scored (seeded sample; default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the search and the sample")
    p.add_argument("--clear", action="store_true",
                   help="forget the shop's tuned settings (reindexes use the configured ones)")
    p.set_defaults(handler=cmd_tune)

    p = sub.add_parser(
        "evaluate",
        help="offline evaluation: train before a time cut, score every strategy after it")
    p.add_argument("--test-days", type=float, default=14.0,
                   help="length of the scored period before the newest event (default 14)")
    p.add_argument("--max-users", type=int, default=3_000,
                   help="most shoppers scored per cold-start bucket (default 3000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the shopper sample")
    p.add_argument("--validation", action="store_true",
                   help="score a validation period inside the training data (for tuning)")
    p.add_argument("--out", type=Path, default=None,
                   help="report directory (default: <data dir>/evaluation)")
    p.add_argument("--json", action="store_true", help="also write evaluation.json")
    p.add_argument("--cold-items", action="store_true",
                   help="evaluate cold-start items instead: withhold products from training "
                        "and measure whether they reach the shoppers who later wanted them")
    p.add_argument("--cold-n", type=int, default=200,
                   help="products withheld by --cold-items (default 200)")
    p.add_argument("--buy-again", action="store_true",
                   help="score buy it again alone (no reindex: quick on a large shop)")
    p.add_argument("--cart", action="store_true",
                   help="score cart complements alone on held-out baskets (no reindex)")
    p.add_argument("--search", action="store_true",
                   help="evaluate search instead: graded queries from the catalog and "
                        "shoppers' later purchases, lexical / semantic / fused / personal")
    p.add_argument("--queries", type=int, default=400,
                   help="graded queries generated by --search (default 400)")
    p.set_defaults(handler=cmd_evaluate)

    p = sub.add_parser("versions", help="list index versions")
    p.set_defaults(handler=cmd_versions)

    p = sub.add_parser("rollback", help="serve an earlier index version again")
    p.add_argument("version", nargs="?", type=int, default=None,
                   help="the version to serve (default: the newest one kept before the live)")
    p.set_defaults(handler=cmd_rollback)

    p = sub.add_parser("settings", help="list every setting, its default and what it does")
    p.set_defaults(handler=cmd_settings)

    p = sub.add_parser("purge", help="delete events and search events older than a cut-off")
    p.add_argument("--older-than", metavar="AGE", default=None,
                   help="e.g. 90d, 12h (default: LODESTAR_RETENTION_DAYS days)")
    p.set_defaults(handler=cmd_purge)

    cli_export.add_parser(sub)
    cli_keys.add_parser(sub)
    cli_simulate.add_parser(sub)
    return parser


def _add_host_port(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)


def _stop_cleanly_on_sigterm() -> None:
    """SIGTERM (systemd, Docker, a process manager) ends a command as Ctrl+C does: cleanup
    runs (closing the embedded Postgres when this was its last user) instead of the process
    dying on the spot. The server's own handler comes first (it finishes requests in
    flight), then hands the signal back here."""
    def stop(signum: int, _: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _environment_defaults(verbosity: int) -> None:
    # Model weights come from installed packages only, never from a hub; implicit wants
    # OpenBLAS single-threaded. Set before those libraries load. The model libraries' own
    # progress bars (loading weights) show with -v only: the command shows its own.
    if not verbosity:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# Lodestar's own loggers: a server logs at INFO; other commands print their own progress.
OWN_LOGGERS = ("api", "evaluation", "retrieval", "indexing", "data", "models", "ranking",
               "lodestar")
SERVING_COMMANDS = frozenset({"serve", "demo"})
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


def _configure_logging(settings: Settings, verbosity: int, command: str) -> None:
    """The console shows each command's own progress and results. Library log lines
    (the embedded Postgres' initdb output, Alembic's plugin lines, model loading) and
    library warnings stay behind `-v` (INFO; `-vv` DEBUG) or LODESTAR_LOG_LEVEL."""
    level = _LEVELS[settings.serving.log_level]
    if verbosity:
        level = min(level, logging.DEBUG if verbosity > 1 else logging.INFO)
    handler = _json_handler() if settings.serving.log_json else logging.StreamHandler()
    if not settings.serving.log_json:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    own = min(level, logging.INFO) if command in SERVING_COMMANDS else level
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    # Warnings of libraries (a missing XDG_RUNTIME_DIR, deprecations) are log lines too.
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(level if verbosity else logging.ERROR)


def _json_handler() -> logging.Handler:
    class JsonFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            body: dict[str, Any] = {
                "ts": round(record.created, 3), "level": record.levelname,
                "logger": record.name, "msg": record.getMessage(),
            }
            if record.exc_info:
                body["exc"] = self.formatException(record.exc_info)
            return json.dumps(body)

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    return handler


# --- commands ----------------------------------------------------------------------------

def cmd_migrate(_: argparse.Namespace, settings: Settings) -> int:
    from models.db import current_revision, migrate, open_database

    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        print(f"schema at revision {current_revision(database)}")
    finally:
        database.close()
    return EXIT_OK


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from models.db import migrate, open_database

    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        _generate(database, args.products, args.users, args.events, args.seed, args.replace)
    finally:
        database.close()
    return EXIT_OK


def _generate(database: Any, products: int, users: int, events: int, seed: int,
              replace: bool) -> None:
    from data.demo_shop import ShopSpec, generate_shop

    for name, value in (("--products", products), ("--users", users), ("--events", events)):
        if value < 1:
            raise CliError(f"{name} must be at least 1", EXIT_USAGE)
    spec = ShopSpec(products=products, users=users, events=events, seed=seed)
    try:
        stats = generate_shop(database, spec, progress=_progress_printer(), replace=replace)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    print(f"generated {stats.products:,} products in {stats.categories} categories, "
          f"{stats.users:,} users, {stats.events:,} events in {stats.seconds:.1f}s")


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from data import importer
    from models import pseudonym
    from models.db import migrate, open_database

    if args.products is None and args.events is None:
        raise CliError("name --products FILE, --events FILE or both", EXIT_USAGE)
    for path in (args.products, args.events):
        if path is not None and not path.is_file():
            raise CliError(f"no such file: {path}", EXIT_USAGE)
    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        try:
            reports = importer.import_files(database, args.products, args.events,
                                            skip_invalid=args.skip_invalid,
                                            pseudonymise=pseudonym.mapper(settings))
        except importer.ImportAborted as exc:
            _print_import_report(exc.report)
            raise CliError(f"{exc.report.kind}: {exc.report.error_count} invalid rows, nothing "
                           "imported (fix them, or pass --skip-invalid)", EXIT_USAGE) from exc
    finally:
        database.close()
    for report in reports:
        _print_import_report(report)
    return EXIT_OK


def _print_import_report(report: Any) -> None:
    print(f"{report.kind}: read {report.rows_read:,}, valid {report.rows_valid:,}, "
          f"inserted {report.inserted:,}, updated {report.updated:,}, "
          f"duplicates skipped {report.skipped_duplicates:,}, invalid {report.error_count:,}"
          + (f", control characters cleaned in {report.cleaned_rows:,}" if report.cleaned_rows
             else "")
          + ("" if report.committed else " (nothing written)"))
    for err in report.errors[:20]:
        print(f"  line {err.line}: {err.reason}", file=sys.stderr)
    if report.error_count > 20:
        print(f"  ... and {report.error_count - 20:,} more", file=sys.stderr)


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from api.schedule import parse_interval, run_every
    from models.db import join_embedded, migrate, open_database

    interval = None
    if args.schedule is not None:
        try:
            interval = parse_interval(args.schedule)
        except ValueError as exc:
            raise CliError(f"--schedule: {exc}", EXIT_USAGE) from exc
    database = (join_embedded(args.embedded_postgres) if args.embedded_postgres
                else open_database(settings, pool_size=2))
    try:
        migrate(database)
        if args.tune:
            from evaluation.tune import TuneOptions

            _tune(database, settings, TuneOptions())
        if args.job is not None:
            _reindex_job(database, settings, args.job)
        elif interval is None:
            _reindex(database, settings)
        else:
            print(f"reindexing now and every {args.schedule}; Ctrl+C stops", flush=True)
            run_every(interval, lambda: _reindex(database, settings))
    finally:
        database.close()
    return EXIT_OK


def cmd_tune(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation.tune import TuneOptions
    from models import tuning
    from models.db import migrate, open_database

    try:
        options = TuneOptions(test_days=args.test_days, trials=args.trials,
                              blend_trials=args.blend_trials,
                              budget_seconds=args.budget_seconds,
                              max_users=args.max_users, seed=args.seed)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        if args.clear:
            gone = tuning.clear(database)
            print("tuned settings forgotten" if gone else "this shop was not tuned")
            return EXIT_OK
        _tune(database, settings, options)
    finally:
        database.close()
    return EXIT_OK


def _tune(database: Any, settings: Settings, options: Any) -> None:
    """Search, print the tables, store the winner for the shop's next reindexes."""
    from tqdm import tqdm

    from evaluation.recommendations import NotEnoughEvents
    from evaluation.tune import markdown, report, tune
    from indexing.encoder import load_encoder
    from indexing.vectorstore import open_vector_store
    from models import tuning

    def show(phase: str, done: int, total: int, trial: Any) -> None:
        v = trial.values
        if phase == "als":
            what = (f"factors {v['als_factors']}, regularization {v['als_regularization']}, "
                    f"alpha {v['als_alpha']}, iterations {v['als_iterations']}")
        else:
            what = ", ".join(f"{k.removeprefix('rec_')} {x:g}" for k, x in v.items())
        kept = " (kept)" if trial.kept else ""
        tqdm.write(f"  {phase} trial {done}/{total}: {what}: NDCG@10 "
                   f"{trial.scores['ndcg@10']:.4f}{kept} ({trial.seconds:.1f}s)",
                   file=sys.stderr)

    # The search starts from what the shop runs now: its earlier winner, if it has one.
    store = open_vector_store(settings)
    try:
        result = tune(database, tuning.tuned(database, settings), options, store=store,
                      encoder=lambda: load_encoder(settings),
                      progress=_progress_printer(), on_trial=show)
    except NotEnoughEvents as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    finally:
        store.close()
    tuning.save(database, result.winner, report(result))
    print(markdown(result))
    print("stored for this shop's next reindex: " + ", ".join(
        f"{k}={v}" for k, v in result.winner.items()))


def _reindex_job(database: Any, settings: Settings, job_id: str) -> None:
    from api.services.jobs import run_job
    from indexing.encoder import load_encoder
    from indexing.pipeline import ReindexBusy
    from indexing.vectorstore import open_vector_store

    store = open_vector_store(settings)
    try:
        run_job(database, store, settings, load_encoder(settings), job_id)
    except ReindexBusy as exc:
        raise CliError(str(exc), EXIT_BUSY) from exc
    finally:
        store.close()


def _reindex(database: Any, settings: Settings) -> None:
    from indexing.encoder import load_encoder
    from indexing.pipeline import ReindexBusy, reindex
    from indexing.vectorstore import open_vector_store

    store = open_vector_store(settings)
    try:
        encoder = load_encoder(settings)
        result = reindex(database, store, settings, encoder, progress=_progress_printer())
    except ReindexBusy as exc:
        raise CliError(str(exc), EXIT_BUSY) from exc
    finally:
        store.close()
    total = sum(result.timings.values())
    print(f"index version {result.version} is live: {result.n_items:,} items "
          f"({result.n_items_with_cf:,} with cf), {result.n_users:,} users, "
          f"{result.n_events:,} events; {result.embedded:,} texts embedded; {total:.1f}s")
    print("  " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()))


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation.buy_again import evaluate_buy_again
    from evaluation.buy_again import markdown as buy_again_markdown
    from evaluation.cart import evaluate_cart
    from evaluation.cart import markdown as cart_markdown
    from evaluation.recommendations import EvaluationOptions, evaluate
    from evaluation.report import markdown, write_reports
    from models import tuning

    if sum((args.cold_items, args.search, args.buy_again, args.cart)) > 1:
        raise CliError("choose one of --cold-items, --search, --buy-again and --cart",
                       EXIT_USAGE)
    if args.cold_items:
        return _evaluate_cold_items(args, settings)
    if args.search:
        return _evaluate_search(args, settings)
    try:
        options = EvaluationOptions(test_days=args.test_days, max_users=args.max_users,
                                    seed=args.seed, validation=args.validation)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    out_dir = args.out if args.out is not None else settings.storage.data_dir / "evaluation"
    if args.buy_again:
        again = _run_evaluation(settings, lambda db, store, encoder: evaluate_buy_again(
            db, settings, options))
        return _report(buy_again_markdown(again), out_dir / "buy_again.md")
    if args.cart:
        baskets = _run_evaluation(settings, lambda db, store, encoder: evaluate_cart(
            db, settings, options))
        return _report(cart_markdown(baskets), out_dir / "cart.md")
    result = _run_evaluation(settings, lambda db, store, encoder: evaluate(
        db, store, settings, encoder, options, progress=_progress_printer()))
    # A shop that ran `lodestar tune` is scored again with what its reindexes now use,
    # beside the configured settings: ALS and the hybrid, default and tuned.
    tuned = _run_evaluation(settings, lambda db, store, encoder: tuning.tuned(db, settings))
    tuned_result = None
    if tuned.snapshot() != settings.snapshot():
        tuned_result = _run_evaluation(tuned, lambda db, store, encoder: evaluate(
            db, store, tuned, encoder, options, progress=_progress_printer()))
    again = _run_evaluation(settings, lambda db, store, encoder: evaluate_buy_again(
        db, settings, options))
    baskets = _run_evaluation(settings, lambda db, store, encoder: evaluate_cart(
        db, settings, options))
    written = write_reports(result, out_dir, with_json=args.json)
    print(markdown(result))
    if tuned_result is not None:
        written += write_reports(tuned_result, out_dir / "tuned", with_json=args.json)
        print("# With the shop's tuned settings (`lodestar tune`)\n")
        print(markdown(tuned_result))
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    _report(buy_again_markdown(again), out_dir / "buy_again.md")
    return _report(cart_markdown(baskets), out_dir / "cart.md")


def _report(markdown: str, path: Path) -> int:
    """Print one evaluation's Markdown and write it to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def _evaluate_cold_items(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation import cold_items as evaluate_cold

    if args.validation:
        raise CliError("--cold-items scores the test split only", EXIT_USAGE)
    if args.cold_n < 1:
        raise CliError("--cold-n must be at least 1", EXIT_USAGE)
    options = evaluate_cold.ColdItemsOptions(test_days=args.test_days, n_items=args.cold_n,
                                             max_users=args.max_users, seed=args.seed)
    result = _run_evaluation(settings, lambda db, store, encoder:
                             evaluate_cold.evaluate_cold_items(
                                 db, store, settings, encoder, options,
                                 progress=_progress_printer()))
    out_dir = args.out if args.out is not None else settings.storage.data_dir / "evaluation"
    written = evaluate_cold.write_reports(result, out_dir, with_json=args.json)
    print(evaluate_cold.markdown(result))
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return EXIT_OK


def _evaluate_search(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation import search as evaluate_search

    if args.queries < 1:
        raise CliError("--queries must be at least 1", EXIT_USAGE)
    options = evaluate_search.SearchEvalOptions(
        n_queries=args.queries, max_users=args.max_users, test_days=args.test_days,
        seed=args.seed, validation=args.validation)
    result = _run_evaluation(settings, lambda db, store, encoder:
                             evaluate_search.evaluate_search(
                                 db, store, settings, encoder, options,
                                 progress=_progress_printer()))
    out_dir = args.out if args.out is not None else settings.storage.data_dir / "evaluation"
    if args.validation:
        out_dir = out_dir / "validation"
    written = evaluate_search.write_reports(result, out_dir, with_json=args.json)
    print(evaluate_search.markdown(result))
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return EXIT_OK


def _run_evaluation(settings: Settings, run: Callable[[Any, Any, Any], _T]) -> _T:
    """Open the database and the store, run an evaluation (handed a loader of the encoder,
    so a refused split costs no model load), close both; a thin split is a usage error."""
    from evaluation.recommendations import NotEnoughEvents
    from indexing.encoder import load_encoder
    from indexing.vectorstore import open_vector_store
    from models.db import migrate, open_database

    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        store = open_vector_store(settings)
        try:
            return run(database, store, lambda: load_encoder(settings))
        except NotEnoughEvents as exc:
            raise CliError(str(exc), EXIT_USAGE) from exc
        finally:
            store.close()
    finally:
        database.close()


def cmd_versions(_: argparse.Namespace, settings: Settings) -> int:
    from models import index_versions
    from models.db import migrate, open_database

    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        rows = index_versions.all_versions(database)
    finally:
        database.close()
    if not rows:
        print("no index versions yet: run `lodestar reindex`")
    for v in rows:
        built = v.built_at.isoformat(timespec="seconds") if v.built_at else "-"
        print(f"v{v.version:<4} {v.status:<8} built {built}  items {v.n_items:,} "
              f"(cf {v.n_items_with_cf:,})  users {v.n_users:,}  events {v.n_events:,}")
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace, settings: Settings) -> int:
    from indexing.pipeline import ReindexBusy, RollbackRefused, rollback
    from indexing.vectorstore import open_vector_store
    from models.db import migrate, open_database

    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        store = open_vector_store(settings)
        try:
            target = rollback(database, store, settings, args.version)
        except ReindexBusy as exc:
            raise CliError(str(exc), EXIT_BUSY) from exc
        except RollbackRefused as exc:
            raise CliError(str(exc)) from exc
        finally:
            store.close()
    finally:
        database.close()
    print(f"index version {target.version} is live again (running servers follow within "
          f"{settings.serving.index_poll_seconds:g}s)")
    return EXIT_OK


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime, timedelta

    from api.schedule import parse_interval
    from models import audit, erasures
    from models.db import migrate, open_database

    if args.older_than is not None:
        try:
            age = timedelta(seconds=parse_interval(args.older_than))
        except ValueError as exc:
            raise CliError(f"--older-than: {exc}", EXIT_USAGE) from None
    elif settings.access.retention_days > 0:
        age = timedelta(days=settings.access.retention_days)
    else:
        raise CliError("say how old: --older-than 90d (or set LODESTAR_RETENTION_DAYS)",
                       EXIT_USAGE)
    cutoff = datetime.now(UTC) - age
    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        deleted = erasures.purge_before(database, cutoff)
        audit.record(database, current_shop(), audit.CLI_KEY, "events.purge",
                     f"before {cutoff:%Y-%m-%d %H:%M}", details={"rows": deleted})
    finally:
        database.close()
    print(f"deleted {deleted['events']:,} events, {deleted['search_events']:,} search "
          f"events and {deleted['exposures']:,} experiment exposures from before "
          f"{cutoff:%Y-%m-%d %H:%M} UTC")
    return EXIT_OK


def cmd_settings(_: argparse.Namespace, settings: Settings) -> int:
    """Every setting, group by group: its variable, its value here (the default unless the
    environment sets it; secrets are not shown) and what it does."""
    docs = {name: doc for name, _, doc in Settings.describe()}
    current = settings.to_env()
    changed = settings.changed()
    secret = {"LODESTAR_ADMIN_KEY", "LODESTAR_QDRANT_API_KEY", "DATABASE_URL",
              "LODESTAR_PSEUDONYMISE_SECRET"}
    for title, names in Settings.groups():
        print(f"\n{title}")
        for name in names:
            value = current.get(name, "")
            shown = "(set)" if name in secret and value else value or "(unset)"
            marker = "*" if name in changed else " "
            print(f" {marker}{name:<38} {shown:<14} {docs[name]}")
    print("\n* differs from the default")
    return EXIT_OK


# Keys that ship in examples and must never guard a real deployment.
PLACEHOLDER_KEYS = frozenset({"change-me", "changeme", "admin", "secret", "password",
                              "lodestar"})
MIN_SERVER_ADMIN_KEY = 16


def check_safe_to_serve(settings: Settings) -> None:
    """The server profile is reached over a network: it will not start with an admin key
    that is missing, short, or one that an example made up."""
    if not settings.server_profile:
        return
    key = settings.access.admin_key or ""
    if not key:
        raise CliError("the server profile needs LODESTAR_ADMIN_KEY (16+ random characters, "
                       "e.g. `openssl rand -hex 24`)", EXIT_USAGE)
    if key.lower() in PLACEHOLDER_KEYS or len(key) < MIN_SERVER_ADMIN_KEY:
        raise CliError("LODESTAR_ADMIN_KEY is a placeholder or shorter than "
                       f"{MIN_SERVER_ADMIN_KEY} characters: set a random one", EXIT_USAGE)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from api.resources import Resources

    check_safe_to_serve(settings)
    resources = Resources.open(settings)
    try:
        if resources.index.live is None:
            log.warning("no index version is live yet: similar items answer 503 until "
                        "`lodestar reindex` runs")
        _serve(resources, args.host, args.port)
    finally:
        resources.close()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from api.resources import Resources

    started = time.perf_counter()
    if not settings.access.admin_key:
        # The demo shows catalog writes; a key for this run only, printed below.
        settings = settings.replace(admin_key=secrets.token_hex(16))
    resources = Resources.open(settings)
    try:
        database = resources.database
        if _count(database, "products") == 0:
            print(f"building the demo shop in {settings.storage.data_dir} (first run only)...")
            _generate(database, args.products, args.users, args.events, args.seed, False)
        else:
            print(f"reusing the shop in {settings.storage.data_dir}")
        resources.index.refresh()
        if resources.index.live is None:
            print("indexing it (first run only; the text encoder takes a minute)...")
            _reindex_in_process(resources)
        elif resources.index_stale():
            print(f"the index is older than {settings.serving.index_max_age_hours:g} h: reindexing "
                  "(unchanged texts come from the embedding cache)...")
            _reindex_in_process(resources)
        print(f"ready in {time.perf_counter() - started:.1f}s")
        if args.no_serve:
            return EXIT_OK
        access = _demo_keys(resources)
        _print_examples(resources, args.host, args.port, access)
        _serve(resources, args.host, args.port, access)
    finally:
        resources.close()
    return EXIT_OK


def _reindex_in_process(resources: Any) -> None:
    from indexing.pipeline import reindex

    # The serving engine bounds statements; a reindex runs long ones on an engine of its own.
    database = resources.database.unbounded()
    try:
        result = reindex(database, resources.store, resources.settings, resources.encoder(),
                         progress=_progress_printer())
    finally:
        database.close()
    resources.index.refresh()
    print(f"index version {result.version} is live: {result.n_items:,} items, "
          f"{result.n_users:,} users ({sum(result.timings.values()):.1f}s)")


def _count(database: Any, table: str) -> int:
    from sqlalchemy import text

    with database.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def _demo_keys(resources: Any) -> Any:
    """Fresh keys for this run of the demo (the last run's are revoked): a public one for
    the page and the curls, a server one with which the demo mints shopper tokens."""
    from api.controllers.page import DemoAccess
    from models import audit, keys

    database = resources.database
    for old in keys.list_keys(database, current_shop()):
        if old.name in ("demo page", "demo backend"):
            keys.revoke(database, old.key_id)
    public = keys.create(database, "public", "demo page")
    server = keys.create(database, "server", "demo backend")
    for made in (public, server):
        audit.record(database, made.shop_id, audit.CLI_KEY, "keys.create", made.key_id,
                     details={"scope": made.scope, "by": "demo"})
    return DemoAccess(public.key, server.key, resources.settings.access.shopper_token_ttl_seconds)


def _print_examples(resources: Any, host: str, port: int, access: Any) -> None:
    from sqlalchemy import text

    from api import tokens

    with resources.database.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT p.product_id, p.category, p.price FROM events e "
            "JOIN products p USING (product_id) GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 1 "
            "LIMIT 1")).first()
        shopper = conn.execute(text(
            "SELECT user_id FROM events GROUP BY 1 HAVING count(*) BETWEEN 20 AND 60 "
            "ORDER BY 1 LIMIT 1")).scalar()
        subcategory = conn.execute(text(
            "SELECT subcategory FROM products WHERE subcategory <> '' GROUP BY 1"
            " ORDER BY count(*) DESC, 1 LIMIT 1")).scalar()
    base = f"http://{host}:{port}"
    admin_key = resources.settings.access.admin_key
    print(f"\nLodestar is serving the demo shop at {base}  (API docs: {base}/schema)")
    print(f"  public key (browsers; the page uses it): {access.public_key}")
    print(f"  admin key (catalog writes, reindex, keys, experiments): {admin_key}")
    print("  a server key (the shop's backend) was made for the page's tokens; make your own "
          "with `lodestar keys create --scope server`")
    if shopper:
        token = tokens.mint(access.server_key, current_shop(), str(shopper),
                            access.token_ttl_seconds)
        print(f"  shopper token for {shopper} ({access.token_ttl_seconds // 60} min): {token}")
        print(f"  open {base}/?user={shopper} to search and browse as one of its shoppers")
    pub = f"-H 'Authorization: Bearer {access.public_key}'"
    print("Try:")
    if row:
        pid, category, price = row
        print(f"  curl {pub} '{base}/v1/products/{pid}'")
        print(f"  curl {pub} '{base}/v1/products/{pid}/similar?limit=5&category="
              f"{_quote(category)}&max_price={float(price) * 1.5:.0f}&in_stock=true'")
    if shopper:
        print(f"  curl {pub} -H 'X-Shopper-Token: {token}' "
              f"'{base}/v1/users/{shopper}/recommendations?limit=5'")
    if subcategory:
        query = _quote(str(subcategory).lower())
        print(f"  curl {pub} '{base}/v1/search?q={query}&limit=5'")
    print(f"  curl -X PUT '{base}/v1/products/NEW-1' -H 'Authorization: Bearer {admin_key}' "
          "-H 'content-type: application/json' -d '{\"title\": \"Insulated steel bottle 1 l\", "
          "\"category\": \"Outdoor & Camping\", \"price\": 24.5}'")
    print("Press Ctrl+C to stop.\n")


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value)


def _serve(resources: Any, host: str, port: int, demo_access: Any = None) -> None:
    import uvicorn

    from api.app import create_app

    app = create_app(resources=resources, demo_access=demo_access)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=resources.settings.serving.shutdown_grace_seconds)


def _progress_printer() -> Callable[[str, int, int], None]:
    """Progress on stderr: one bar per stage, updated in place."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def report(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bars.clear()
            bar = bars[stage] = tqdm(total=total, desc=f"{stage:<13}", unit="",
                                     leave=True, file=sys.stderr, dynamic_ncols=True)
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return report


if __name__ == "__main__":
    sys.exit(main())
