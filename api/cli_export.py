"""`lodestar export-recs`: recommendations of the shoppers active lately, to a file that an
e-mail or push job sends from (api/export.py does the work).

It reads the live index: in the embedded profile, whose engine opens a shard in one
process only, stop `lodestar serve` first; in the server profile it runs beside the API.
The export's modules load when the command runs, not with every `lodestar` command.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.settings import Settings

if TYPE_CHECKING:
    from api.export import ExportOptions

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export-recs",
        help="write the recommendations of recently active shoppers to a file (JSON Lines "
             "or Parquet) for e-mail and push",
        description="One row per shopper with an event in the last --since (measured back "
                    "from the newest event): user_id, items (product_id, score, reason), "
                    "strategy, model_version, generated_at. The lists are the ones "
                    "GET /v1/users/{id}/recommendations answers.")
    p.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="the file to write (replaced only once the export is complete)")
    p.add_argument("--format", choices=("jsonl", "parquet"), default=None,
                   help="default: by the file's suffix, .jsonl or .parquet")
    p.add_argument("--since", default="30d", metavar="AGE",
                   help="shoppers with an event this recently: 30d, 12h, 1d12h (default 30d)")
    p.add_argument("--limit", type=int, default=10,
                   help="recommendations per shopper (default 10)")
    p.add_argument("--shoppers", type=int, default=None, metavar="N",
                   help="at most this many shoppers, the first by user id (default: all)")
    p.set_defaults(handler=cmd_export_recs)


def cmd_export_recs(args: argparse.Namespace, settings: Settings) -> int:
    from api.cli import CliError, _progress_printer
    from api.export import ExportRefused, export_recommendations
    from api.resources import Resources

    # Arguments are checked before anything opens: a typo costs no database start.
    options = _options(args, settings)
    resources = Resources.open(settings)
    report = _progress_printer()
    try:
        result = export_recommendations(
            resources, options, progress=lambda done, total: report("export-recs", done, total))
    except ExportRefused as exc:
        raise CliError(str(exc)) from None
    finally:
        resources.close()
    window = (f"shoppers active after {result.window_start:%Y-%m-%d %H:%M} UTC"
              if result.window_start else "no events yet")
    print(f"wrote {result.shoppers:,} shoppers' recommendations to {result.path} "
          f"({options.format}, index version {result.model_version}, {window}) in "
          f"{result.seconds:.1f}s")
    return EXIT_OK


def _options(args: argparse.Namespace, settings: Settings) -> ExportOptions:
    """The export's options from the arguments; a CliError (exit 2, one line) for nonsense."""
    from api.cli import CliError
    from api.export import ExportOptions, format_of
    from api.schedule import parse_interval

    out: Path = args.out
    if out.is_dir():
        raise CliError(f"--out: {out} is a directory; name a file", EXIT_USAGE)
    if not out.parent.is_dir():
        raise CliError(f"--out: no such directory: {out.parent}", EXIT_USAGE)
    try:
        kind = format_of(out, args.format)
    except ValueError as exc:
        raise CliError(f"--out: {exc}", EXIT_USAGE) from None
    try:
        since = timedelta(seconds=parse_interval(args.since))
    except ValueError as exc:
        raise CliError(f"--since: {exc}", EXIT_USAGE) from None
    most = settings.serving.max_limit
    if not 1 <= args.limit <= most:
        raise CliError(f"--limit must be between 1 and {most} (LODESTAR_MAX_LIMIT), "
                       f"not {args.limit}", EXIT_USAGE)
    if args.shoppers is not None and args.shoppers < 1:
        raise CliError(f"--shoppers must be at least 1, not {args.shoppers}", EXIT_USAGE)
    return ExportOptions(out=out, format=kind, since=since, limit=args.limit,
                         max_shoppers=args.shoppers)
