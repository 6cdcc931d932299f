"""`sinergi indicators recompute`: recount the computed indicators now."""

import time


def cmd_indicators_recompute(args) -> None:
    from sinergi.indicators import compute, services

    started = time.perf_counter()
    if args.pending:
        handled = services.recompute_pending()
        print(f"{handled} change marks recounted in {time.perf_counter() - started:.1f} s")
        return
    figures = compute.recompute([args.region] if args.region else None)
    print(f"{figures.get('cells', 0)} cells of {figures.get('villages', 0)} villages "
          f"recounted in {time.perf_counter() - started:.1f} s")


def add_parsers(sub) -> None:
    """Register this app's subcommands on the `sinergi` parser."""
    indicators = sub.add_parser("indicators", help="indicators",
                                description="Indicators over the region tree.")
    isub = indicators.add_subparsers(dest="indicators_command", required=True,
                                     metavar="ACTION")
    p = isub.add_parser("recompute", help="recount the computed indicators",
                        description="Recount every indicator computed from the registry, "
                        "groups and programs for the current year (the worker does this "
                        "after every change, and once a day for ages that moved).")
    p.add_argument("--region", help="only the villages under this region code, e.g. 19.04")
    p.add_argument("--pending", action="store_true",
                   help="only what changes asked for (the worker's job), then stop")
    p.set_defaults(func=cmd_indicators_recompute)
