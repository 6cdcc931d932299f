"""`sinergi regions load`: the Kemendagri hierarchy."""

import time


def cmd_regions_load(args) -> None:
    from pathlib import Path

    from sinergi.regions import services

    started = time.perf_counter()
    result = services.regions_load(
        actor=None,
        path=Path(args.file) if args.file else services.DEFAULT_FILE,
        edition=args.edition or services.DEFAULT_EDITION,
        source=args.source or services.DEFAULT_SOURCE,
        allow_mass_retire=args.allow_retire_many,
    )
    print(
        f"{result.edition}: {result.total:,} regions; added {result.added:,}, renamed "
        f"{result.renamed:,}, retired {result.retired:,}, restored {result.restored:,} "
        f"({time.perf_counter() - started:.1f} s)"
    )


def add_parsers(sub) -> None:
    """Register this app's subcommands on the `sinergi` parser."""
    regions = sub.add_parser("regions", help="the Kemendagri region hierarchy",
                             description="Manage the region hierarchy.")
    rsub = regions.add_subparsers(dest="regions_command", required=True, metavar="ACTION")
    p = rsub.add_parser("load", help="load (or update to) a Kepmendagri edition",
                        description="Load the shipped edition, or a code,name CSV file. "
                        "Idempotent; codes no longer listed are marked retired, never deleted.")
    p.add_argument("--file", help="CSV (or .csv.gz) with columns code,name; default: shipped")
    p.add_argument("--edition", help="edition name, e.g. 'Kepmendagri 300.2.2-2138/2025'")
    p.add_argument("--source", help="where the file comes from, for the record")
    p.add_argument("--allow-retire-many", action="store_true",
                   help="allow the load to retire more than 10%% of the current regions "
                   "(only for a file that really is the whole new edition)")
    p.set_defaults(func=cmd_regions_load)
