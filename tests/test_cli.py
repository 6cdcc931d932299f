"""The `sinergi` command line: help everywhere, clear errors, same services."""

import subprocess
import sys

import pytest

from sinergi.accounts.models import User
from sinergi.cli import build_parser, main
from sinergi.regions.models import Region


def _commands(parser, words=()) -> list[list[str]]:
    """Every command and subcommand of the parser, walked from the top, so a
    command added later is covered too."""
    import argparse

    found = [list(words)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _commands(child, (*words, name))
    return found


SUBCOMMANDS = _commands(build_parser())


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=lambda w: " ".join(w) or "sinergi")
def test_every_subcommand_has_help(words, capsys):
    assert len(SUBCOMMANDS) >= 17  # the walk found the tree
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*words, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: sinergi")


def test_the_installed_console_script_answers_help():
    result = subprocess.run([sys.executable, "-m", "sinergi.cli", "regions", "load", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--edition" in result.stdout


def test_users_create_reads_the_password_from_stdin(world, monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("Koba-Bangka-2026\n"))
    code = main(["users", "create", "--username", "leader2", "--role", "leader",
                 "--region", "19.04", "--password-stdin"])
    assert code == 0
    assert User.objects.get(username="leader2").check_password("Koba-Bangka-2026")
    assert "Created leader2" in capsys.readouterr().out


def test_users_create_with_a_bad_region_exits_2_with_the_reason(world, monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("Koba-Bangka-2026\n"))
    code = main(["users", "create", "--username", "x", "--role", "coordinator",
                 "--region", "1904", "--password-stdin"])
    assert code == 2
    assert "19.04" in capsys.readouterr().err
    assert not User.objects.filter(username="x").exists()


def test_regions_load_from_a_file_reports_what_changed(world, tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("code,name\n97,Provinsi Coba\n97.01,Kabupaten Coba\n", encoding="utf-8")
    assert main(["regions", "load", "--file", str(path), "--edition", "coba",
                 "--allow-retire-many"]) == 0
    out = capsys.readouterr().out
    assert "added 2" in out
    # The test world's regions are not in this file: they are retired, not deleted.
    assert Region.objects.filter(code="19.04").get().retired_in == "coba"


def test_regions_load_of_a_missing_file_exits_2(world, capsys):
    assert main(["regions", "load", "--file", "/nonexistent.csv"]) == 2
    assert "nonexistent.csv" in capsys.readouterr().err


def test_agencies_seed_reports_nothing_new_the_second_time(world, capsys):
    assert main(["agencies", "seed", "--region", "19.71"]) == 0
    first = capsys.readouterr().out
    assert main(["agencies", "seed", "--region", "19.71"]) == 0
    assert "13 agencies added" in first and "0 agencies added" in capsys.readouterr().out


def test_check_runs_the_deploy_checks_and_fails_on_warnings(world, capsys):
    # Test settings run without HTTPS: the deploy checks must say so.
    assert main(["check"]) == 1
    assert "SECURE_SSL_REDIRECT" in capsys.readouterr().err
    assert main(["check", "--no-deploy"]) == 0


def test_regions_load_of_a_partial_file_exits_2_and_names_the_flag(world, tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("code,name\n97,Provinsi Coba\n", encoding="utf-8")
    assert main(["regions", "load", "--file", str(path), "--edition", "coba"]) == 2
    assert "--allow-retire-many" in capsys.readouterr().err
    assert Region.objects.get(code="19.04").retired_in == ""
    assert not Region.objects.filter(code="97").exists()


@pytest.mark.parametrize(
    ("region", "fragment"),
    [("19.69", "does not exist"), ("19.04.01", "not allowed here"), ("1904", "19.04")],
)
def test_agencies_seed_of_a_bad_region_exits_2_with_the_reason(world, capsys, region, fragment):
    assert main(["agencies", "seed", "--region", region]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sinergi: ") and fragment in err
    assert "Traceback" not in err


def test_users_create_refuses_an_agency_for_a_role_without_one(world, monkeypatch, capsys):
    import io

    from sinergi.agencies.models import Agency

    agency = Agency.objects.get(region_id="19.04", short_name="Dinsos")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Koba-Bangka-2026\n"))
    code = main(["users", "create", "--username", "pimpinan2", "--role", "leader",
                 "--region", "19.04", "--agency", str(agency.id), "--password-stdin"])
    assert code == 2
    assert "no --agency" in capsys.readouterr().err
    assert not User.objects.filter(username="pimpinan2").exists()


def test_the_serving_process_builds_its_parser_without_thread_pools():
    """gunicorn forks the serving process: building the command line there
    must not import polars (its threads do not survive a fork) nor open
    threads at all."""
    code = ("import sys, threading; from sinergi.cli import _setup_django, build_parser, "
            "_os_threads; _setup_django(); build_parser(); "
            "print('polars' in sys.modules, _os_threads())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "1"]


def test_users_set_password_revokes_tokens(world, tmp_path):
    from sinergi.accounts import services
    from sinergi.accounts.models import ApiToken
    from sinergi.cli import main

    user = world["officer"]
    _token, secret = services.api_token_create(actor=user, user=user, name="skrip")
    assert services.api_token_authenticate(secret) == user
    import io
    import sys as system

    stdin, system.stdin = system.stdin, io.StringIO("Kata-Sandi-Baru-2026!\n")
    try:
        assert main(["users", "set-password", "--username", "officer",
                     "--password-stdin"]) == 0
    finally:
        system.stdin = stdin
    user.refresh_from_db()
    assert user.check_password("Kata-Sandi-Baru-2026!")
    assert services.api_token_authenticate(secret) is None
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
