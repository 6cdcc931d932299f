"""Settings come from SINERGI_* variables, fail loudly, and are documented."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from sinergi import settings as sinergi_settings
from sinergi.settings import database_from_url

ROOT = Path(__file__).resolve().parent.parent


def load_settings(env: dict, tmp_path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
    clean.update({"SINERGI_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", "import sinergi.settings as s; print(s.DATABASES['default']"
         "['ENGINE'], s.DEBUG)"],
        env=clean, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def test_sqlite_url_gets_wal_immediate_and_a_busy_timeout(tmp_path):
    db = database_from_url(f"sqlite:///{tmp_path}/x.sqlite3")
    assert db["NAME"] == f"{tmp_path}/x.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert "foreign_keys=ON" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] >= 5
    relative = database_from_url("sqlite:///var/y.sqlite3")
    assert relative["NAME"] == str(ROOT / "var" / "y.sqlite3")


def test_postgres_url_is_split_into_its_parts():
    db = database_from_url("postgres://sin%40ergi:p%2Fw@db.local:6543/prov19?sslmode=require")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "sin@ergi", "p/w", "db.local", "6543", "prov19")
    assert db["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    "url", ["mysql://x@y/z", "sqlite://", "postgres://u@h:5432/", "postgres://u@h:notaport/db"]
)
def test_a_bad_database_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured):
        database_from_url(url)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SINERGI_DEBUG": "maybe"}, "SINERGI_DEBUG"),
        ({"SINERGI_SECRET_KEY": "short"}, "at least 32"),
        ({"SINERGI_SECRET_KEY_FILE": "/nonexistent/key"}, "does not exist"),
        ({"SINERGI_LOGIN_FAILURE_LIMIT": "0"}, "SINERGI_LOGIN_FAILURE_LIMIT"),
        ({"SINERGI_SESSION_AGE": "ten"}, "SINERGI_SESSION_AGE"),
        ({"SINERGI_LOG_LEVEL": "LOUD"}, "SINERGI_LOG_LEVEL"),
        ({"SINERGI_DATABASE_URL": "oracle://x/y"}, "SINERGI_DATABASE_URL"),
        ({"SINERGI_CSRF_TRUSTED_ORIGINS": "sinergi.example"}, "https://"),
        ({"SINERGI_TRUSTED_PROXIES": "10.0.0.1,proxy.local"}, "SINERGI_TRUSTED_PROXIES"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(tmp_path, env, message):
    result = load_settings(env, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_a_fresh_install_creates_its_own_private_secret_key(tmp_path):
    result = load_settings({}, tmp_path)
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "secret_key"
    assert len(key_file.read_text()) >= 32
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    # The same key is used on the next start.
    before = key_file.read_text()
    load_settings({}, tmp_path)
    assert key_file.read_text() == before


def test_every_setting_variable_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in sinergi_settings.ENV_VARIABLES if f"`{name}`" not in doc]
    assert not missing, f"undocumented in docs/configuration.md: {missing}"


def test_every_dependency_has_a_reason():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = project["dependencies"] + project["optional-dependencies"]["test"]
    doc = (ROOT / "docs" / "dependencies.md").read_text(encoding="utf-8").lower()
    for pin in pins:
        name, _, version = pin.partition("==")
        assert version, f"{pin} is not pinned with =="
        name = name.split("[")[0].lower()
        assert f"`{name}`" in doc, f"{name} has no line in docs/dependencies.md"


def documented_production_settings() -> dict:
    """The SINERGI_* block of docs/configuration.md's production checklist."""
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    checklist = doc.split("## Production checklist", 1)[1]
    block = checklist.split("```sh", 1)[1].split("```", 1)[0]
    pairs = [line.strip().split("=", 1) for line in block.splitlines() if "=" in line]
    return {name: value for name, value in pairs}


def run_check(env: dict, tmp_path) -> subprocess.CompletedProcess:
    """``python -m sinergi.cli check`` with ``env`` as the only SINERGI_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
    clean.update(env)
    return subprocess.run([sys.executable, "-m", "sinergi.cli", "check"], env=clean,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def production_env(tmp_path) -> dict:
    env = documented_production_settings()
    assert {"SINERGI_SECRET_KEY_FILE", "SINERGI_ALLOWED_HOSTS", "SINERGI_SECURE",
            "SINERGI_DATABASE_URL"} <= env.keys()
    # The one change: the key file, made as the checklist says, lives here.
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(50) + "\n")
    key_file.chmod(0o600)
    return {**env, "SINERGI_SECRET_KEY_FILE": str(key_file)}


def test_sinergi_check_passes_with_the_documented_production_settings(tmp_path):
    result = run_check(production_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_hsts_preload_is_on_behind_https_and_declining_it_is_a_decision_check_accepts(
        tmp_path):
    probe = ("import sinergi.settings as s; "
             "print(s.SECURE_HSTS_PRELOAD, s.SECURE_HSTS_SECONDS, s.SILENCED_SYSTEM_CHECKS)")

    def settings_with(env):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
        clean.update({"SINERGI_VAR_DIR": str(tmp_path), **env})
        result = subprocess.run([sys.executable, "-c", probe], env=clean, cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert settings_with({}) == "False 0 []"
    assert settings_with({"SINERGI_SECURE": "1"}) == "True 31536000 []"
    assert settings_with({"SINERGI_SECURE": "1", "SINERGI_HSTS_PRELOAD": "0"}) == \
        "False 31536000 ['security.W021']"
    declined = run_check({**production_env(tmp_path), "SINERGI_HSTS_PRELOAD": "0"}, tmp_path)
    assert declined.returncode == 0, declined.stdout + declined.stderr
    # Without HTTPS the deployment checks still refuse, preload or not.
    plain = run_check({**production_env(tmp_path), "SINERGI_SECURE": "0"}, tmp_path)
    assert plain.returncode != 0 and "security.W004" in plain.stdout + plain.stderr
