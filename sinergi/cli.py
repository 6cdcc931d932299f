"""The `sinergi` command: serve, demo, check and manage here; every app's own
commands in its commands.py (COMMAND_APPS), registered by build_parser.

Every subcommand calls the same services as the pages and the API. A
problem the operator can fix prints one line on stderr and exits with 2.
"""

import argparse
import os
import sys
import time


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sinergi.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def _migrate(verbosity: int = 0) -> None:
    _manage("migrate", "--noinput", f"--verbosity={verbosity}")


def cmd_serve(args) -> None:
    """Migrate, collect static files and serve with gunicorn + whitenoise."""
    if args.prepared:
        _serve(args.host, args.port, args.workers)
        return
    if not args.no_migrate:
        _migrate()
    _manage("collectstatic", "--noinput", "--verbosity=0")
    _exec_server(args.host, args.port, args.workers)


def _exec_server(host: str, port: int, workers: int) -> None:
    """Replace this process by a fresh ``sinergi serve --prepared``.

    gunicorn forks its workers from the serving process. A process that has
    built the demo or migrated has started thread pools (polars, the
    SQLite checkpoint thread) and opened database connections; a fork copies
    the connections and the pools' locks but not their threads, so the
    workers would hang on their first import. A fresh interpreter has
    neither.
    """
    from django.db import connections

    connections.close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-m", "sinergi.cli", "serve", "--prepared", "--host", host,
            "--port", str(port), "--workers", str(workers)]
    os.execv(sys.executable, argv)  # noqa: S606 (our own interpreter and module)


def _os_threads() -> int:
    """Threads of this process as the kernel counts them (Python's count
    misses threads started by native libraries)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import threading

    return threading.active_count()


def _start_worker():
    """`sinergi worker` beside the web server: runs every background job."""
    import atexit
    import subprocess

    child = subprocess.Popen([sys.executable, "-m", "sinergi.cli", "worker"])  # noqa: S603
    atexit.register(child.terminate)
    return child


def _serve(host: str, port: int, workers: int) -> None:
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from sinergi.wsgi import application

    # gunicorn forks its workers from this process: it must hold no thread
    # (see _exec_server) and no database connection.
    if _os_threads() > 1:
        print("sinergi: warning: serving from a process with threads running; its workers "
              "may hang", file=sys.stderr, flush=True)
    connections.close_all()

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", "-")

        def load(self):
            return application

    print(f"Sinergi serving on http://{host}:{port}  (Ctrl+C to stop)", flush=True)
    _start_worker()
    Server().run()


def cmd_demo(args) -> None:
    """Build the demo (idempotent), print the logins, then serve."""
    from sinergi.demo import DemoContext, demo_build

    started = time.perf_counter()
    print("Preparing the Sinergi demo database…", flush=True)
    _migrate()
    ctx = demo_build(DemoContext(scale=args.scale))
    print(f"Demo ready in {time.perf_counter() - started:.0f} s.\n")
    url = f"http://{args.host}:{args.port}/"
    print(f"Open {url} and sign in with one of these demo accounts:")
    width = max(len(label) for label, *_ in ctx.logins)
    for label, username, password, scope in ctx.logins:
        print(f"  {label:<{width}}  user: {username:<12} password: {password:<18} scope: {scope}")
    print(flush=True)
    if args.no_serve:
        return
    _manage("collectstatic", "--noinput", "--verbosity=0")
    _exec_server(args.host, args.port, args.workers)


def cmd_check(args) -> None:
    extra = ["--deploy"] if not args.no_deploy else []
    _manage("check", *extra, "--fail-level", "WARNING")


def cmd_manage(args) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sinergi manage", *args.rest])


# Apps with a commands.py (add_parsers(sub) registers its subcommands).
COMMAND_APPS = ["core", "regions", "agencies", "accounts", "imports", "indicators"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sinergi",
        description="Sinergi: regional program coordination. Settings come from SINERGI_* "
        "environment variables (docs/configuration.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_server_args(p, *, workers: int = 2):
        p.add_argument("--host", default="127.0.0.1", help="address to listen on")
        p.add_argument("--port", type=int, default=8000, help="port to listen on")
        p.add_argument("--workers", type=int, default=workers, help="worker processes")

    p = sub.add_parser("serve", help="run the production web server (gunicorn + whitenoise)",
                       description="Apply migrations, collect static files and serve.")
    add_server_args(p)
    p.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    # Internal: the fresh process that `serve` and `demo` hand over to.
    p.add_argument("--prepared", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="build the demo database and serve it",
                       description="Build the demo region (Kepulauan Bangka Belitung) in the "
                       "configured database, print one login per role, then serve.")
    add_server_args(p)
    p.add_argument("--scale", choices=["small", "default", "full"], default="default",
                   help="demo data size: small (a few thousand persons, for tests), default "
                   "(about 30,000) or full (province scale)")
    p.add_argument("--no-serve", action="store_true", help="build the data and stop")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("check", help="run Django's system and deployment checks",
                       description="Run the system checks, with the deployment checks unless "
                       "--no-deploy; exits non-zero on any warning.")
    p.add_argument("--no-deploy", action="store_true", help="skip the deployment checks")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("manage", help="any Django management command (migrate, shell, …)",
                       description="Pass the rest of the line to Django's manage.py.")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)

    # Each app's own commands, in the order `sinergi --help` lists them: the
    # parser and the function it runs live together in <app>/commands.py.
    import importlib

    for app in COMMAND_APPS:
        importlib.import_module(f"sinergi.{app}.commands").add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from django.core.exceptions import ImproperlyConfigured

    try:
        _setup_django()
    except ImproperlyConfigured as exc:
        print(f"sinergi: configuration problem: {exc}", file=sys.stderr)
        return 2
    from django.core.management.base import CommandError

    from sinergi.core.errors import SinergiError

    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except SinergiError as exc:
        print(f"sinergi: {exc.message}", file=sys.stderr)
        return 2
    except ImproperlyConfigured as exc:
        print(f"sinergi: configuration problem: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"sinergi: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
