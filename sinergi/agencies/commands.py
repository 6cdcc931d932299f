"""`sinergi agencies seed`: the default OPD set of a government."""



def cmd_agencies_seed(args) -> None:
    from sinergi.agencies.services import agency_seed_defaults

    created = agency_seed_defaults(actor=None, region_code=args.region)
    print(f"{len(created)} agencies added to {args.region}: "
          + (", ".join(a.short_name for a in created) or "none (all present)"))


def add_parsers(sub) -> None:
    """Register this app's subcommands on the `sinergi` parser."""
    agencies = sub.add_parser("agencies", help="agencies (OPD)",
                              description="Manage agencies.")
    asub = agencies.add_subparsers(dest="agencies_command", required=True, metavar="ACTION")
    p = asub.add_parser("seed", help="add the default agency set to a government",
                        description="Add the default OPD set to a province or kabupaten/kota; "
                        "existing short names are left alone.")
    p.add_argument("--region", required=True, help="province or kabupaten/kota code, e.g. 19.04")
    p.set_defaults(func=cmd_agencies_seed)
