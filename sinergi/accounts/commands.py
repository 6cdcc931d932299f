"""`sinergi users create` and `sinergi users set-password`."""

import getpass
import sys


def cmd_users_create(args) -> None:
    from sinergi.accounts.services import user_create

    password = _password(args, "created")
    user = user_create(
        actor=None,
        username=args.username,
        password=password,
        role=args.role,
        region_code=args.region,
        agency_id=args.agency,
        first_name=args.first_name or "",
        last_name=args.last_name or "",
        email=args.email or "",
        superuser=args.superuser,
    )
    print(f"Created {user.username} ({user.role}, scope {user.region_id or 'all'}).")




def cmd_users_set_password(args) -> None:
    from sinergi.accounts.models import User
    from sinergi.accounts.services import user_set_password
    from sinergi.core.errors import SinergiError

    user = User.objects.filter(username=args.username).first()
    if user is None:
        raise SinergiError(f"There is no account '{args.username}'.")
    password = _password(args, "changed")
    revoked = user_set_password(actor=None, user=user, password=password)
    print(f"Password of {user.username} changed; {revoked} API token(s) revoked.")


def _password(args, what: str) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise SystemExit(f"sinergi: the two passwords differ; nothing was {what}.")
        return password
    raise SystemExit("sinergi: give the password with --password-stdin or run in a terminal.")


def add_parsers(sub) -> None:
    """Register this app's subcommands on the `sinergi` parser."""
    from sinergi.accounts.roles import ROLE_CHOICES

    users = sub.add_parser("users", help="user accounts", description="Manage accounts.")
    usub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    p = usub.add_parser("create", help="create an account",
                        description="Create an account with a role and a region scope. The "
                        "password is asked for, or read from stdin with --password-stdin.")
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True, choices=[key for key, _ in ROLE_CHOICES])
    p.add_argument("--region", help="root of the user's scope, e.g. 19.04; required except "
                   "for an unscoped administrator")
    p.add_argument("--agency", type=int, help="agency id (required for an officer)")
    p.add_argument("--first-name")
    p.add_argument("--last-name")
    p.add_argument("--email")
    p.add_argument("--superuser", action="store_true",
                   help="administrator with every Django admin permission")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=cmd_users_create)

    p = usub.add_parser("set-password", help="set an account's password",
                        description="Set an account's password through the same service as "
                        "the password page: the account's API tokens are revoked, audited. The "
                        "password is asked for, or read from stdin with --password-stdin.")
    p.add_argument("--username", required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=cmd_users_set_password)
