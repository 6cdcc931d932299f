"""Query-count baselines: every list page and list endpoint, on the small demo,
must not run more queries than tests/query_counts.json says for the
database it runs on (SQLite and PostgreSQL differ by a query here and
there: savepoints, session settings). A count that grows (a query per row,
a forgotten select_related) fails here; one that shrinks is welcome, and
the file can be lowered.

To write the file again after a deliberate change:
``SINERGI_WRITE_QUERY_COUNTS=1 ./run test tests/test_query_counts.py``.
"""

import json
import os
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from sinergi.api import api

BASELINE = Path(__file__).with_name("query_counts.json")
# Parameterless pages that are not lists: sign-in and password forms, the
# health check, files, and Django's own (admin, language switch).
NOT_LISTS = ("accounts:login", "accounts:logout", "accounts:password_change",
             "core:healthz", "imports:template", "meetings:commitment_template",
             "regions:region_go", "regions:region_picker")
# The demo's own accounts: a province coordinator and a village operator.
PERSONAS = ("koordinator", "operator")

pytestmark = pytest.mark.slow


def list_pages() -> list[tuple[str, str]]:
    """(name, path) of every page URL without parameters, walked from the URL
    conf, so a page added later is counted too."""
    found = []

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = ":".join(x for x in (namespace, p.namespace) if x)
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and p.name:
                path = prefix + str(p.pattern)
                name = f"{namespace}:{p.name}" if namespace else p.name
                if "<" in path or path.endswith((".xlsx", ".pdf")) or name in NOT_LISTS:
                    continue
                found.append((name, "/" + path.lstrip("^").rstrip("$")))

    walk(get_resolver().url_patterns, "", "")
    return [(n, p) for n, p in found
            if not p.startswith(("/admin", "/api/", "/i18n")) and not p.endswith("/go/")]


def list_endpoints() -> list[tuple[str, str]]:
    """(operation, path) of every GET operation of the API without path
    parameters: the lists."""
    schema = api.get_openapi_schema()
    return [(f"GET {path}", path) for path, ops in schema["paths"].items()
            if "get" in ops and "{" not in path]


def test_every_list_keeps_its_query_count(world, capsys):
    from sinergi.accounts.models import User
    from sinergi.demo import DemoContext, demo_build

    demo_build(DemoContext(scale="small"))  # (it sets the demo accounts' passwords anew)
    capsys.readouterr()
    clients = {}
    for persona in PERSONAS:
        clients[persona] = Client(HTTP_ACCEPT_LANGUAGE="en")
        clients[persona].force_login(User.objects.get(username=persona))
    for client in clients.values():
        client.get("/")  # the connection's settings are made once, not per list
    counts = {}
    for persona, client in clients.items():
        for name, path in list_pages() + list_endpoints():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            if response.status_code == 405:
                continue  # an action that takes only POST (seed agencies, ask for a brief)
            assert response.status_code in (200, 400, 403), (persona, path, response)
            counts[f"{persona} {name}"] = len(queries.captured_queries)
    vendor = connection.vendor
    stored = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    if os.environ.get("SINERGI_WRITE_QUERY_COUNTS"):
        stored[vendor] = dict(sorted(counts.items()))
        BASELINE.write_text(json.dumps(dict(sorted(stored.items())), indent=1) + "\n")
    assert vendor in stored, f"no baseline for {vendor}; write tests/query_counts.json"
    baseline = stored[vendor]
    assert set(counts) == set(baseline), (
        "lists added or gone; write tests/query_counts.json again: "
        f"new {sorted(set(counts) - set(baseline))}, gone {sorted(set(baseline) - set(counts))}")
    grown = {key: f"{baseline[key]} -> {n}" for key, n in counts.items() if n > baseline[key]}
    assert not grown, f"more queries than the baseline: {grown}"
