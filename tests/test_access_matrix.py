"""Every URL pattern and API operation, checked against every persona.

RULES below names, for each page (by URL name) and each API operation (by
method and path), what every persona gets. A new endpoint with no rule here
fails ``test_every_endpoint_has_an_access_rule``, so nothing ships without
a decision about who may reach it. Django admin URLs are checked as a
family: none of them opens for anyone but an administrator.
"""

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from sinergi.accounts.models import ApiToken
from sinergi.agencies.models import Agency
from sinergi.api import api
from sinergi.regions.models import Region

from .access_rules_indicators import RULES as INDICATOR_RULES
from .access_rules_meetings import RULES as MEETING_RULES
from .access_rules_monitoring import RULES as MONITORING_RULES
from .access_rules_programs import RULES as PROGRAM_RULES
from .access_rules_registry import RULES as REGISTRY_RULES
from .conftest import KAB, OUTSIDE_KAB, PERSONAS, expect


def agency_of(region, short="DP3ACSKB"):
    return Agency.objects.get(region_id=region, short_name=short).id


def other_village(world):
    own = world["operator"].region_id
    return Region.objects.filter(code__startswith=KAB + ".", level=4).exclude(code=own)\
        .order_by("code").first().code


def foreign_token(world):
    token, _ = ApiToken.objects.get_or_create(user=world["admin"], name="probe",
                                              defaults={"prefix": "probe0000000",
                                                        "digest": "0" * 64})
    return token.id


# key -> list of (method, url(world) -> str, body or None, expected statuses)
RULES = {
    "dashboards:home": [("get", lambda w: "/", None, expect(200, 200, 200, 200, 200, 200, 200))],
    "core:healthz": [("get", lambda w: "/healthz", None, expect(200, 200, 200, 200, 200, 200,
                                                                200))],
    "regions:region_picker": [
        ("get", lambda w: f"/regions/picker/?parent={KAB}", None,
         expect(302, 200, 200, 200, 200, 200, 404)),
    ],
    "regions:region_go": [
        ("get", lambda w: f"/regions/go/?parent=19&parent={KAB}", None,
         expect(302, 302, 302, 302, 302, 302, 404)),
    ],
    "regions:region": [
        ("get", lambda w: f"/regions/{KAB}/", None, expect(302, 200, 200, 200, 200, 200, 404)),
        ("get", lambda w: f"/regions/{other_village(w)}/", None,
         expect(302, 200, 200, 200, 404, 200, 404)),
        ("get", lambda w: f"/regions/{OUTSIDE_KAB}/", None,
         expect(302, 404, 404, 404, 404, 404, 200)),
    ],
    "audit:list": [("get", lambda w: "/audit/", None, expect(302, 200, 403, 403, 403, 403,
                                                             403))],
    "accounts:login": [("get", lambda w: "/accounts/login/", None,
                        expect(200, 302, 302, 302, 302, 302, 302))],
    "accounts:logout": [("post", lambda w: "/accounts/logout/", {},
                         expect(302, 302, 302, 302, 302, 302, 302))],
    "accounts:password_change": [("get", lambda w: "/accounts/password/", None,
                                  expect(302, 200, 200, 200, 200, 200, 200))],
    "accounts:tokens": [("get", lambda w: "/accounts/tokens/", None,
                         expect(302, 200, 200, 200, 200, 403, 200))],
    "accounts:token_revoke": [("post", lambda w: f"/accounts/tokens/{foreign_token(w)}/revoke/",
                               {}, expect(302, 302, 404, 404, 404, 404, 404))],
    "agencies:list": [("get", lambda w: "/agencies/", None,
                       expect(302, 200, 200, 200, 200, 200, 200))],
    "agencies:create": [("get", lambda w: "/agencies/new/", None,
                         expect(302, 200, 200, 403, 403, 403, 200))],
    "agencies:seed": [("post", lambda w: "/agencies/defaults/", {"region": KAB},
                       expect(302, 302, 302, 403, 403, 403, 404))],
    "agencies:detail": [
        ("get", lambda w: f"/agencies/{agency_of(KAB)}/", None,
         expect(302, 200, 200, 200, 200, 200, 404)),
        ("get", lambda w: f"/agencies/{agency_of(OUTSIDE_KAB)}/", None,
         expect(302, 404, 404, 404, 404, 404, 200)),
    ],
    "agencies:edit": [
        ("get", lambda w: f"/agencies/{agency_of(KAB)}/edit/", None,
         expect(302, 200, 200, 403, 403, 403, 404)),
        ("get", lambda w: f"/agencies/{agency_of('19')}/edit/", None,
         expect(302, 200, 403, 403, 403, 403, 404)),
    ],
    "set_language": [("post", lambda w: "/i18n/setlang/", {"language": "en", "next": "/"},
                      expect(302, 302, 302, 302, 302, 302, 302))],
    # The API's own pages: the schema and its viewer hold no data.
    "api:openapi-json": [("get", lambda w: "/api/openapi.json", None,
                          expect(200, 200, 200, 200, 200, 200, 200))],
    # Ninja's root has no page of its own.
    "api:api-root": [("get", lambda w: "/api/", None,
                      expect(404, 404, 404, 404, 404, 404, 404))],
    "api:openapi-view": [("get", lambda w: "/api/docs", None,
                          expect(200, 200, 200, 200, 200, 200, 200))],
    # API operations, keyed by method and path as in the OpenAPI document.
    "GET /api/v1/regions": [
        ("get", lambda w: f"/api/v1/regions?parent={KAB}", None,
         expect(401, 200, 200, 200, 200, 200, 404)),
        ("get", lambda w: "/api/v1/regions?q=koba", None,
         expect(401, 200, 200, 200, 200, 200, 200)),
    ],
    "GET /api/v1/regions/{code}": [
        ("get", lambda w: f"/api/v1/regions/{KAB}", None,
         expect(401, 200, 200, 200, 200, 200, 404)),
        ("get", lambda w: f"/api/v1/regions/{other_village(w)}", None,
         expect(401, 200, 200, 200, 404, 200, 404)),
    ],
    "GET /api/v1/agencies": [("get", lambda w: "/api/v1/agencies", None,
                              expect(401, 200, 200, 200, 200, 200, 200))],
    "GET /api/v1/agencies/{agency_id}": [
        ("get", lambda w: f"/api/v1/agencies/{agency_of(KAB)}", None,
         expect(401, 200, 200, 200, 200, 200, 404)),
    ],
    "PATCH /api/v1/agencies/{agency_id}": [
        ("patch", lambda w: f"/api/v1/agencies/{agency_of(KAB)}", {"is_active": True},
         expect(401, 200, 200, 403, 403, 403, 404)),
    ],
    "GET /api/v1/tokens": [("get", lambda w: "/api/v1/tokens", None,
                            expect(401, 200, 200, 200, 200, 200, 200))],
    "POST /api/v1/tokens": [("post", lambda w: "/api/v1/tokens", {"name": "probe"},
                             expect(401, 201, 201, 201, 201, 403, 201))],
    "DELETE /api/v1/tokens/{token_id}": [
        ("delete", lambda w: f"/api/v1/tokens/{foreign_token(w)}", None,
         expect(401, 200, 404, 404, 404, 404, 404)),
    ],
}


RULES.update(REGISTRY_RULES)
RULES.update(MEETING_RULES)
RULES.update(PROGRAM_RULES)
RULES.update(INDICATOR_RULES)
RULES.update(MONITORING_RULES)


def _walk(patterns, namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern):
            yield namespace, entry


API_PAGES = {"openapi-json", "openapi-view", "api-root"}


def _api_path(route: str) -> str:
    """'v1/regions/<str:code>' -> '/api/v1/regions/{code}' (OpenAPI's form)."""
    return "/api/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def page_url_names() -> set[str]:
    """Every named URL outside the admin; API operations are checked by path."""
    names = set()
    schema_paths = set(api.get_openapi_schema()["paths"])
    for namespace, pattern in _walk(get_resolver().url_patterns):
        if namespace == "admin":
            continue
        assert pattern.name, f"URL pattern {pattern.pattern} has no name"
        if namespace == "api" and pattern.name not in API_PAGES:
            # An API route must be an operation in the OpenAPI document,
            # whose every method needs its own rule (api_operation_keys).
            assert _api_path(str(pattern.pattern)) in schema_paths, pattern.pattern
            continue
        names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def api_operation_keys() -> set[str]:
    schema = api.get_openapi_schema()
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
    }


def test_every_endpoint_has_an_access_rule():
    endpoints = page_url_names() | api_operation_keys()
    missing = sorted(endpoints - RULES.keys())
    stale = sorted(RULES.keys() - endpoints)
    assert not missing, f"endpoints with no access rule in RULES: {missing}"
    assert not stale, f"RULES names endpoints that no longer exist: {stale}"


PROBES = [
    (key, i, persona)
    for key, probes in RULES.items()
    for i, _probe in enumerate(probes)
    for persona in PERSONAS
]


@pytest.mark.parametrize(("key", "index", "persona"), PROBES,
                         ids=[f"{k}#{i}-{p}" for k, i, p in PROBES])
def test_persona_gets_expected_status(key, index, persona, client_of, world):
    method, url_fn, body, expected = RULES[key][index]
    client = client_of(persona)
    url = url_fn(world)
    if callable(body):  # made from the world: a multipart upload, or JSON for the API
        data = body(world)
        if url.startswith("/api/") and not any(hasattr(v, "read") for v in data.values()):
            response = getattr(client, method)(url, data=json.dumps(data),
                                               content_type="application/json")
        else:
            response = getattr(client, method)(url, data=data)
    elif body is not None and url.startswith("/api/"):
        response = getattr(client, method)(url, data=json.dumps(body),
                                           content_type="application/json")
    elif body is not None:
        response = getattr(client, method)(url, data=body)
    else:
        response = getattr(client, method)(url)
    assert response.status_code == expected[persona], (
        f"{persona} {method.upper()} {url}: {response.status_code}, "
        f"expected {expected[persona]}"
    )
    if response.status_code == 404 and url.startswith("/api/v1/"):
        # Out of scope answers with the error shape and nothing of the object.
        payload = response.json()
        assert set(payload) == {"detail", "errors"}
    if expected[persona] == 302 and persona == "anonymous" and method == "get":
        assert "/accounts/login/" in response["Location"]


def admin_urls() -> list[str]:
    """Admin URLs to probe: the index, and each model's list and add pages."""
    from django.contrib import admin

    urls = ["/admin/"]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [base, base + "add/", base + "1/change/"]
    return urls


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "admin"])
def test_admin_site_opens_only_for_administrators(persona, client_of, world):
    client = client_of(persona)
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code == 302, (persona, url, response.status_code)
        assert "/admin/login/" in response["Location"]


# Admin pages only an unscoped administrator may open: groups grant Django
# permissions across the whole deployment.
UNSCOPED_ADMIN_ONLY = ("/admin/auth/group/",)


def test_admin_site_opens_for_administrator_within_scope(client_of, world):
    client = client_of("admin")
    assert client.get("/admin/").status_code == 200
    for url in admin_urls():
        if url.endswith("/add/") or url.endswith("/change/"):
            continue
        expected = 403 if url.startswith(UNSCOPED_ADMIN_ONLY) else 200
        assert client.get(url).status_code == expected, url
    # Scoped: the Tanggamus agency does not exist for a Bangka Belitung admin.
    response = client.get(f"/admin/agencies/agency/{agency_of(OUTSIDE_KAB)}/change/")
    assert response.status_code == 302  # admin redirects a missing object to the index
    listing = client.get("/admin/agencies/agency/").content.decode()
    assert "Tanggamus" not in listing
