"""The API: shapes, scope, pagination, errors, token authentication."""

import json

import pytest
from django.test import Client

from sinergi.accounts.models import ApiToken
from sinergi.accounts.services import api_token_create
from sinergi.agencies.models import Agency
from sinergi.core.models import AuditLog
from sinergi.regions.models import Region

from .conftest import KAB, api_pages


def test_region_detail_has_the_documented_fields(client_of):
    body = client_of("coordinator").get(f"/api/v1/regions/{KAB}").json()
    assert body == {"code": "19.04", "name": "Kabupaten Bangka Tengah", "kind": "kabupaten",
                    "level": 2, "parent_code": "19", "retired": False}


def test_children_are_keyset_paginated_in_code_order_without_gaps(client_of):
    client = client_of("admin")
    expected = list(Region.objects.filter(parent_id=KAB).order_by("code")
                    .values_list("code", flat=True))
    seen, sizes = api_pages(client, f"/api/v1/regions?parent={KAB}&limit=2", key="code")
    assert seen == expected
    assert len(sizes) == (len(expected) + 1) // 2


def test_name_search_stays_inside_scope(client_of):
    # "Koba" is a kecamatan of 19.04; the Tanggamus coordinator cannot find it.
    inside = client_of("coordinator").get("/api/v1/regions?q=koba").json()["items"]
    assert any(item["code"] == "19.04.01" for item in inside)
    outside = client_of("outsider").get("/api/v1/regions?q=koba").json()["items"]
    assert outside == []


def test_scope_root_is_the_default_listing(client_of):
    items = client_of("operator").get("/api/v1/regions").json()["items"]
    assert len(items) == 1 and items[0]["level"] == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=500", "limit"), ("cursor=%%%", "cursor"),
     ("parent=1904", "parent"), ("q=a", "q"), ("level=7", "level"), ("limit=abc", "limit")],
)
def test_bad_parameters_answer_with_the_error_shape(client_of, query, field):
    response = client_of("admin").get(f"/api/v1/regions?{query}")
    assert response.status_code in (400, 422)
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"]
    assert [e["field"] for e in body["errors"]] == [field]


def test_agency_list_filters_by_region_subtree(client_of):
    body = client_of("admin").get(f"/api/v1/agencies?region={KAB}&limit=200").json()
    assert body["items"] and {a["region_code"] for a in body["items"]} == {KAB}
    assert len(body["items"]) == Agency.objects.filter(region_id=KAB).count()


def test_agency_patch_changes_audits_and_validates(client_of, world):
    agency = Agency.objects.get(region_id=KAB, short_name="Dinsos")
    client = client_of("coordinator")
    response = client.patch(f"/api/v1/agencies/{agency.id}",
                            data=json.dumps({"name": "Dinas Sosial Bangka Tengah"}),
                            content_type="application/json")
    assert response.status_code == 200
    assert response.json()["name"] == "Dinas Sosial Bangka Tengah"
    entry = AuditLog.objects.filter(action="agency.update", object_id=str(agency.id)).get()
    assert entry.actor == world["coordinator"]
    assert entry.before == {"name": "Dinas Sosial"}
    assert entry.after == {"name": "Dinas Sosial Bangka Tengah"}
    assert entry.region_code == KAB

    bad = client.patch(f"/api/v1/agencies/{agency.id}", data=json.dumps({"sector": "moon"}),
                       content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "sector"
    taken = client.patch(f"/api/v1/agencies/{agency.id}",
                         data=json.dumps({"short_name": "Bappeda"}),
                         content_type="application/json")
    assert taken.status_code == 400 and "Bappeda" in taken.json()["detail"]
    agency.refresh_from_db()
    assert agency.short_name == "Dinsos"


def test_a_bearer_token_authenticates_until_revoked(world):
    _row, token = api_token_create(actor=world["officer"], user=world["officer"], name="script")
    stored = ApiToken.objects.get(name="script")
    assert token not in (stored.digest, stored.prefix) and len(stored.digest) == 64
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(f"/api/v1/regions/{KAB}", **auth).status_code == 200
    assert client.get("/api/v1/regions/18.06", **auth).status_code == 404  # officer's scope
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    assert client.get("/api/v1/regions", HTTP_AUTHORIZATION=f"Bearer {token}x").status_code == 401
    # Revoke through the API with the token itself.
    assert client.delete(f"/api/v1/tokens/{stored.id}", **auth).status_code == 200
    assert client.get("/api/v1/regions", **auth).status_code == 401


def test_token_create_shows_the_token_once(client_of):
    client = client_of("operator")
    created = client.post("/api/v1/tokens", data=json.dumps({"name": "hp operator"}),
                          content_type="application/json").json()
    assert created["token"].startswith("sng_" + created["prefix"] + "_")
    listing = client.get("/api/v1/tokens").json()
    assert [t["name"] for t in listing] == ["hp operator"]
    assert "token" not in listing[0]
    empty = client.post("/api/v1/tokens", data=json.dumps({"name": "  "}),
                        content_type="application/json")
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "name"


def test_session_writes_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["coordinator"])
    agency = Agency.objects.get(region_id=KAB, short_name="Dinsos")
    response = client.patch(f"/api/v1/agencies/{agency.id}", data=json.dumps({"name": "X"}),
                            content_type="application/json")
    assert response.status_code == 403
    agency.refresh_from_db()
    assert agency.name == "Dinas Sosial"


def test_openapi_documents_every_operation(db):
    client = Client()
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/regions/{code}" in schema["paths"]
    assert "/api/v1/agencies/{agency_id}" in schema["paths"]
    docs = client.get("/api/docs").content.decode()
    assert "cdn." not in docs and "/static/ninja/" in docs


@pytest.mark.parametrize(
    "values",
    [["19.04", "Bappeda", "abc"], ["19.04", "Bappeda", None], ["19.04", ["x"], 5],
     [{"a": 1}, "Bappeda", 5], ["19.04", "Bapp\u0000eda", 5], ["19.04", "Bappeda", 10**30],
     ["19.04", "Bappeda", True]],
    ids=["text-id", "null-id", "list-name", "object-region", "nul-byte", "huge-id", "bool-id"],
)
def test_a_tampered_agency_cursor_answers_400_not_500(client_of, values):
    from sinergi.core.pagination import encode_cursor

    cursor = encode_cursor(values)
    client = client_of("admin")
    api = client.get(f"/api/v1/agencies?cursor={cursor}")
    assert api.status_code == 400
    assert [e["field"] for e in api.json()["errors"]] == ["cursor"]
    page = client.get(f"/agencies/?cursor={cursor}")
    assert page.status_code == 400
    assert "start again from the first page" in page.content.decode()


def test_a_null_region_cursor_answers_400(client_of):
    from sinergi.core.pagination import encode_cursor

    response = client_of("admin").get(f"/api/v1/regions?cursor={encode_cursor([None])}")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


def test_the_agency_list_walks_across_pages_without_gaps_or_repeats(client_of, world):
    from sinergi.accounts import access

    client = client_of("admin")
    expected = list(
        access.agencies_visible(world["admin"])
        .order_by("region_id", "short_name", "id").values_list("id", flat=True)
    )
    assert len(expected) > 3 * 5
    seen, sizes = api_pages(client, "/api/v1/agencies?limit=3")
    assert max(sizes) <= 3
    assert len(seen) == len(set(seen))
    assert seen == expected


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"is_active": None}, "is_active"), ({"sector": None}, "sector"),
     ({"name": None}, "name"), ({"short_name": None}, "short_name")],
)
def test_agency_patch_with_null_says_the_field_cannot_be_empty(client_of, payload, field):
    agency = Agency.objects.get(region_id=KAB, short_name="Dinsos")
    response = client_of("coordinator").patch(
        f"/api/v1/agencies/{agency.id}", data=json.dumps(payload),
        content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field]
    assert "short name" not in body["detail"]
    agency.refresh_from_db()
    assert (agency.name, agency.short_name, agency.sector, agency.is_active) == (
        "Dinas Sosial", "Dinsos", "social", True)


def test_a_token_stops_working_when_the_role_loses_token_access(world):
    from sinergi.accounts import roles
    from sinergi.accounts.models import User

    _row, token = api_token_create(actor=world["officer"], user=world["officer"], name="hp")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert Client().get(f"/api/v1/regions/{KAB}", **auth).status_code == 200
    # Demoted to leader (read-only, no API tokens): the old token is refused.
    User.objects.filter(pk=world["officer"].pk).update(role=roles.LEADER, agency=None)
    assert Client().get(f"/api/v1/regions/{KAB}", **auth).status_code == 401


def _rule_urls(method: str, world, only: set[str] | None = None) -> list[str]:
    """The URL of every API operation of ``method`` (of those ``only`` names,
    as "POST /api/v1/..."), from the access matrix, which has a rule for
    every operation of the OpenAPI document."""
    from .test_access_matrix import RULES

    return [probes[0][1](world) for key, probes in sorted(RULES.items())
            if key.startswith(f"{method} /api/") and (only is None or key in only)]


@pytest.mark.parametrize("body", [[], ["name"], "s", 3, None, True],
                         ids=["empty-list", "list", "string", "number", "null", "bool"])
def test_a_patch_body_that_is_not_an_object_is_refused_with_422(client_of, world, body):
    urls = _rule_urls("PATCH", world)
    assert {url.split("/")[3] for url in urls} >= {"agencies", "programs", "enrollments",
                                                   "meetings", "commitments"}
    client = client_of("admin")
    for url in urls:
        response = client.patch(url, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 422, (url, response.content)
        assert response.json()["detail"].startswith(
            "The body must be a JSON object with the fields to change"), url
    # Before, the string "s" read as an object set a meeting's title to "S" (str.title).
    assert not AuditLog.objects.filter(action__endswith=".update").exists()


def test_a_post_body_that_is_not_an_object_is_refused_with_422(client_of, world):
    from sinergi.api import api

    json_bodies = {
        f"POST {path}" for path, operations in api.get_openapi_schema()["paths"].items()
        if "application/json" in operations.get("post", {}).get("requestBody", {})
        .get("content", {})}
    assert len(json_bodies) >= 8
    client = client_of("admin")
    for url in _rule_urls("POST", world, only=json_bodies):
        response = client.post(url, data=json.dumps([]), content_type="application/json")
        assert response.status_code == 422, (url, response.content)
        assert "must be a JSON object" in response.json()["detail"], url
    assert not AuditLog.objects.filter(action="commitment.progress").exists()


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_an_unsafe_call_with_a_bad_or_revoked_token_answers_401_not_a_csrf_403(world, method):
    from sinergi.accounts.services import api_token_revoke

    row, revoked = api_token_create(actor=world["coordinator"], user=world["coordinator"],
                                    name="old")
    api_token_revoke(actor=world["coordinator"], token=row)
    agency = Agency.objects.get(region_id=KAB, short_name="Dinsos")
    url = {"post": "/api/v1/tokens", "patch": f"/api/v1/agencies/{agency.id}",
           "delete": f"/api/v1/tokens/{row.id}"}[method]
    # A browser session beside the token does not stand in for it either.
    signed_in = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    signed_in.force_login(world["coordinator"])
    for client in (Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en"), signed_in):
        for token in ("sng_nothing_here", revoked, "", "not-a-token"):
            response = getattr(client, method)(
                url, data=json.dumps({"name": "x"}), content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}")
            assert response.status_code == 401, (token, response.content)
            assert response.json()["detail"] == (
                "Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    agency.refresh_from_db()
    assert agency.name == "Dinas Sosial"
    # Without a token, the session still needs its CSRF token.
    response = signed_in.patch(f"/api/v1/agencies/{agency.id}", data=json.dumps({"name": "X"}),
                               content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def _schemas_in(node, path="#"):
    """Every JSON schema in the OpenAPI document, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}/{key}"
            if key == "schema":
                yield here, value
            elif key == "schemas" and path == "#/components":
                for name, schema in value.items():
                    yield f"{here}/{name}", schema
            else:
                yield from _schemas_in(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _schemas_in(value, f"{path}/{i}")


JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}


def _check_schema(schema, where: str, components: dict, problems: list) -> None:
    if not isinstance(schema, dict):
        problems.append(f"{where}: a schema must be an object, not {schema!r}")
        return
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        if name == schema["$ref"] or name not in components:
            problems.append(f"{where}: $ref {schema['$ref']} resolves to nothing")
    if "type" in schema and schema["type"] not in JSON_TYPES:
        problems.append(f"{where}: unknown type {schema['type']!r}")
    if "prefixItems" in schema:
        # A tuple: JSON Schema 2020-12 only; Swagger UI and OpenAPI 3.0 tools
        # cannot read it. Name the parts with an object instead.
        problems.append(f"{where}: prefixItems (a tuple)")
    for key, value in schema.get("properties", {}).items():
        _check_schema(value, f"{where}/properties/{key}", components, problems)
    missing = set(schema.get("required", [])) - set(schema.get("properties", {}))
    if missing and "properties" in schema:
        problems.append(f"{where}: required names no property: {sorted(missing)}")
    if "items" in schema:
        _check_schema(schema["items"], f"{where}/items", components, problems)
    extra = schema.get("additionalProperties")
    if extra is not None and not isinstance(extra, bool):
        _check_schema(extra, f"{where}/additionalProperties", components, problems)
    for key in ("anyOf", "oneOf", "allOf"):
        for i, part in enumerate(schema.get(key, [])):
            _check_schema(part, f"{where}/{key}/{i}", components, problems)


def test_the_openapi_document_has_only_readable_schemas(db):
    document = Client().get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    components = document["components"]["schemas"]
    problems: list[str] = []
    found = list(_schemas_in(document))
    assert len(found) > len(components)  # components and the operations' own
    for where, schema in found:
        _check_schema(schema, where, components, problems)
    assert not problems, "\n".join(problems)
    village = components["VillageCount"]
    assert village["properties"].keys() == {"village_code", "count"}


def test_the_preview_lists_villages_as_named_fields(client_of, world):
    import datetime

    from sinergi.registry.models import Household, Person

    from .access_rules_programs import own_program

    village = world["operator"].region_id
    household = Household.objects.create(kk_number="1904000000000077", village_code=village)
    for n in (1, 2):
        Person.objects.create(name=f"Warga {n}", sex="P", household=household, shdk=n,
                              village_code=village, birth_date=datetime.date(1990, 1, n))
    response = client_of("coordinator").get(f"/api/v1/programs/{own_program(world)}/preview")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 2
    assert body["by_village"] == [{"village_code": village, "count": 2}]


def test_a_name_search_can_keep_to_the_own_subtree(client_of):
    # The village operator sees Kabupaten Bangka Tengah above the village by
    # name; a picker for pages that count people asks for the own subtree only.
    client = client_of("operator")
    everything = [r["code"] for r in client.get("/api/v1/regions?q=bangka").json()["items"]]
    own = [r["code"] for r in client.get("/api/v1/regions?q=bangka&subtree=true").json()["items"]]
    assert KAB in everything and KAB not in own
    assert all(code.startswith(KAB + ".") for code in own)
