"""Sinergi's one settings module, driven by SINERGI_* environment variables.

Every variable is documented in docs/configuration.md (a test fails if one is
not). A bad value stops start-up with ImproperlyConfigured naming the
variable, instead of running half-configured.
"""

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

# Names of every environment variable read below; docs/configuration.md
# must describe each (tests/test_settings.py checks it).
ENV_VARIABLES: list[str] = []


def env(name: str, default: str | None = None) -> str | None:
    ENV_VARIABLES.append(name)
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


VAR_DIR = Path(env("SINERGI_VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("SINERGI_DEBUG", False)


def _secret_key() -> str:
    """SINERGI_SECRET_KEY, else the file SINERGI_SECRET_KEY_FILE names.

    When neither is set, a key is created once in VAR_DIR/secret_key (mode
    0600) so a fresh install starts without a secret in code or in the
    shell history; production sets one of the two variables explicitly.
    """
    key = env("SINERGI_SECRET_KEY")
    key_file = env("SINERGI_SECRET_KEY_FILE")
    if key and key_file:
        raise ImproperlyConfigured(
            "Set SINERGI_SECRET_KEY or SINERGI_SECRET_KEY_FILE, not both."
        )
    if key is None:
        path = Path(key_file) if key_file else VAR_DIR / "secret_key"
        if not path.exists():
            if key_file:
                raise ImproperlyConfigured(f"SINERGI_SECRET_KEY_FILE={path} does not exist.")
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50))
        key = path.read_text(encoding="utf-8").strip()
    if len(key) < 32:
        raise ImproperlyConfigured("The secret key must be at least 32 characters long.")
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("SINERGI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("SINERGI_CSRF_TRUSTED_ORIGINS", "")
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"SINERGI_CSRF_TRUSTED_ORIGINS entry {_origin!r} must start with http:// or https://."
        )

SECURE = env_bool("SINERGI_SECURE", False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
# "preload" in the HSTS header consents to browsers' built-in HTTPS-only list
# (hstspreload.org, submitted for the registrable domain by its owner). On
# behind HTTPS, as Django's deployment check asks; SINERGI_HSTS_PRELOAD=0 is
# an operator's explicit decision not to, which `sinergi check` then accepts.
SECURE_HSTS_PRELOAD = env_bool("SINERGI_HSTS_PRELOAD", SECURE)
SILENCED_SYSTEM_CHECKS = ["security.W021"] if SECURE and not SECURE_HSTS_PRELOAD else []
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SINERGI_SESSION_AGE", 8 * 3600, minimum=300)


def database_from_url(url: str) -> dict:
    """Turn SINERGI_DATABASE_URL into a Django DATABASES entry.

    sqlite:///relative/or/absolute/path.sqlite3 (three slashes then the path;
    a relative path is under the project) or postgres://user:pass@host:port/name.
    """
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    if parts.scheme == "sqlite":
        raw_path = unquote(parts.path)
        if not raw_path or raw_path == "/":
            raise ImproperlyConfigured(
                "SINERGI_DATABASE_URL for SQLite needs a file: sqlite:///var/sinergi.sqlite3"
            )
        # sqlite:///var/x.sqlite3 is relative, sqlite:////srv/x.sqlite3 absolute.
        path = Path(raw_path[1:])
        if not path.is_absolute():
            path = BASE_DIR / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            "OPTIONS": {
                # One writer at a time: IMMEDIATE takes the write lock when the
                # transaction starts, so two writers queue on busy_timeout
                # instead of failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": int(options.get("timeout", 20)),
                # WAL lets readers go on while one writer writes; NORMAL sync
                # is safe with WAL (a power cut may lose the last commit, never
                # corrupt). Django turns foreign keys on itself; we repeat it.
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA temp_store=MEMORY;"
                ),
            },
            # Kept open by each server thread: opening a file database and
            # running the PRAGMAs above cost a few milliseconds per request.
            "CONN_MAX_AGE": int(options.get("conn_max_age", 600)),
            "TEST": {"NAME": options.get("test_name") or None},
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(
                "SINERGI_DATABASE_URL for PostgreSQL needs a database name: "
                "postgres://user@127.0.0.1:5432/sinergi"
            )
        try:
            port = parts.port or 5432
        except ValueError:
            raise ImproperlyConfigured("SINERGI_DATABASE_URL has a bad port number.") from None
        db_options = {k: v for k, v in options.items() if k not in {"conn_max_age"}}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port),
            "CONN_MAX_AGE": int(options.get("conn_max_age", 60)),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": db_options,
        }
    raise ImproperlyConfigured(
        f"SINERGI_DATABASE_URL scheme {parts.scheme!r} is not supported; "
        "use sqlite:///path or postgres://user:password@host:port/name."
    )


DATABASES = {
    "default": database_from_url(
        env("SINERGI_DATABASE_URL", f"sqlite:///{VAR_DIR / 'sinergi.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    # Sinergi's apps, in dependency order; `sinergi demo` builds their demo
    # data in this order too.
    "sinergi.core",
    "sinergi.regions",
    "sinergi.agencies",
    "sinergi.accounts",
    "sinergi.registry",
    "sinergi.imports",
    "sinergi.groups",
    "sinergi.programs",
    "sinergi.convergence",
    "sinergi.indicators",
    "sinergi.monitoring",
    "sinergi.meetings",
    "sinergi.dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "sinergi.core.timelimit.TimeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sinergi.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sinergi.core.middleware.AccessDeniedMiddleware",
]

ROOT_URLCONF = "sinergi.urls"
WSGI_APPLICATION = "sinergi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sinergi.accounts.context_processors.sinergi",
            ],
        },
    }
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["sinergi.accounts.backends.RoleBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboards:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling: this many failures for one username (or from one
# address) within the window locks further attempts until it passes.
LOGIN_FAILURE_LIMIT = env_int("SINERGI_LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("SINERGI_LOGIN_FAILURE_WINDOW", 15 * 60, minimum=60)
# Reverse proxies in front of Sinergi (addresses or networks). Only when the
# request comes from one of them is X-Forwarded-For believed, so throttling
# counts the real client; anyone else could write that header themselves.
TRUSTED_PROXIES = env_list("SINERGI_TRUSTED_PROXIES", "")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"SINERGI_TRUSTED_PROXIES entry {_proxy!r} is not an IP address or network; "
            "write e.g. 127.0.0.1,10.0.0.0/8."
        ) from None

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env("SINERGI_TIME_ZONE", "Asia/Jakarta")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# The project-wide stylesheet and icon (sinergi/ itself is not an app).
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed (gzip) copies are made by `collectstatic`; without a
    # manifest so templates render before collectstatic has run (tests).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOG_LEVEL = env("SINERGI_LOG_LEVEL", "INFO")
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
    raise ImproperlyConfigured(
        f"SINERGI_LOG_LEVEL={LOG_LEVEL!r}; use DEBUG, INFO, WARNING or ERROR."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Bounds for every list on a request path (pages and API).
PAGE_SIZE = 50
PAGE_SIZE_MAX = 200

NINJA_PAGINATION_MAX_LIMIT = PAGE_SIZE_MAX

# Background jobs (imports, rakor brief PDFs, coverage recomputations) run
# in `sinergi worker` (which `sinergi serve` starts), each in a process of
# its own, never in a web process. A running job that shows no sign of
# progress (no CPU time, no progress report, no active database query) for
# this many seconds is stopped and marked failed (core/jobs.py).
JOB_STALL_SECONDS = env_int("SINERGI_JOB_STALL_SECONDS", 120, minimum=2)

# Every request's database work is bounded in time (core/timelimit.py): a
# statement timeout on PostgreSQL, a progress handler on SQLite. A request
# that goes over answers "too heavy: narrow the region or the rule". Excel
# exports, which stream whole lists, get EXPORT_TIME_LIMIT instead.
REQUEST_TIME_LIMIT = env_int("SINERGI_REQUEST_TIME_LIMIT", 15, minimum=1)
EXPORT_TIME_LIMIT = env_int("SINERGI_EXPORT_TIME_LIMIT", 120, minimum=1)

# Live progress counts of commitments (persons of a region in the registry,
# ...) are counted at most once per this many seconds per server process.
PROGRESS_CACHE_SECONDS = env_int("SINERGI_PROGRESS_CACHE_SECONDS", 60)

# A persons export of more rows than this is written in the background (the
# job runner) with its progress on a page; a smaller one is sent at once.
EXPORT_INLINE_MAX = env_int("SINERGI_EXPORT_INLINE_MAX", 5000)

# Computed indicators are recounted this many seconds after the first change
# that asks for it, so a burst of edits is counted by one run of the worker.
INDICATOR_RECOUNT_DELAY = env_int("SINERGI_INDICATOR_RECOUNT_DELAY", 30, minimum=0)


def _thresholds(raw: str) -> dict:
    """``name=value,...`` of monitoring.analysis.Thresholds (ints and decimals)."""
    out = {}
    for item in raw.split(","):
        name, _, value = item.partition("=")
        if name.strip():
            try:
                out[name.strip()] = int(value) if value.strip().isdigit() else float(value)
            except ValueError:
                raise ImproperlyConfigured(
                    f"SINERGI_IMPACT_THRESHOLDS: {item!r} is not name=number") from None
    return out


# When an impact analysis may conclude (docs/monitoring.md, "Verdict").
IMPACT_THRESHOLDS = _thresholds(env("SINERGI_IMPACT_THRESHOLDS", "") or "")
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
