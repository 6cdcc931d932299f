"""Access rules of the indicator pages and API, merged into the matrix.

Persona order as in tests/test_access_matrix.py: anonymous, admin (19),
coordinator (19.04), officer (DP3ACSKB of 19.04), operator (a village of
19.04), leader (19), outsider (coordinator of 18.06). The catalogue,
indicator and panel pages are public for provinces and kab/kota; a
kecamatan's figures only for those whose scope holds it.
"""

from sinergi.indicators.models import Indicator
from sinergi.regions.models import Region

from .access_rules_registry import kab_family
from .conftest import KAB, expect

IND = "/indicators"
ALL = expect(200, 200, 200, 200, 200, 200, 200)
SIGNED_IN = expect(302, 200, 200, 200, 200, 200, 200)
MANAGE = expect(302, 200, 200, 403, 403, 403, 200)
ENTER = expect(302, 200, 200, 403, 403, 403, 200)
KECAMATAN = expect(404, 200, 200, 200, 404, 200, 404)
API_ALL = expect(401, 200, 200, 200, 200, 200, 200)


def kecamatan(world) -> str:
    return f"{KAB}.01"


def dp3a_indicator(world) -> str:
    """An external indicator the officer's agency keeps."""
    Indicator.objects.get_or_create(code="PROBE_DP3A", defaults={
        "name_id": "Probe", "kind": "percent", "source": "agency", "agency": "DP3ACSKB"})
    return "PROBE_DP3A"


def own_village(world) -> str:
    return world["operator"].region_id


def other_village(world) -> str:
    code = kab_family(world).village_code
    assert Region.objects.filter(code=code, level=4).exists()
    return code


RULES = {
    "indicators:catalogue": [("get", lambda w: f"{IND}/", None, ALL)],
    "indicators:catalogue_export": [("get", lambda w: f"{IND}/indikator.xlsx", None, ALL)],
    "indicators:detail_export": [
        ("get", lambda w: f"{IND}/P0/table.xlsx?region={KAB}", None, ALL),
        ("get", lambda w: f"{IND}/NIK_PCT/table.xlsx?region={kecamatan(w)}", None, KECAMATAN),
    ],
    "indicators:region_export": [
        ("get", lambda w: f"{IND}/region/{KAB}/export.xlsx", None, ALL),
        ("get", lambda w: f"{IND}/region/{kecamatan(w)}/export.xlsx", None, KECAMATAN),
    ],
    "indicators:quality_export": [("get", lambda w: f"{IND}/quality/export.xlsx", None,
                                   expect(302, 200, 200, 200, 403, 403, 200))],
    "indicators:create": [("get", lambda w: f"{IND}/new/", None, MANAGE)],
    "indicators:detail": [
        ("get", lambda w: f"{IND}/P0/?region={KAB}", None, ALL),
        ("get", lambda w: f"{IND}/P0/?region=18.06", None, ALL),
        ("get", lambda w: f"{IND}/NIK_PCT/?region={kecamatan(w)}", None, KECAMATAN),
    ],
    "indicators:region": [
        ("get", lambda w: f"{IND}/region/{KAB}/", None, ALL),
        ("get", lambda w: f"{IND}/region/{kecamatan(w)}/", None, KECAMATAN),
        ("get", lambda w: f"{IND}/region/{own_village(w)}/", None,
         expect(404, 200, 200, 200, 200, 200, 404)),
    ],
    "indicators:edit": [("get", lambda w: f"{IND}/P0/edit/", None, MANAGE)],
    "indicators:enter": [
        ("get", lambda w: f"{IND}/P0/values/", None, ENTER),
        # The officer enters the values of the own agency's indicator only.
        ("get", lambda w: f"{IND}/{dp3a_indicator(w)}/values/", None,
         expect(302, 200, 200, 200, 403, 403, 200)),
        ("post", lambda w: f"{IND}/{dp3a_indicator(w)}/values/",
         {"region": KAB, "period": "2025", "value": "12.5"},
         expect(302, 302, 302, 302, 403, 403, 404)),
        ("post", lambda w: f"{IND}/P0/values/", {"region": KAB, "period": "2025", "value": "9"},
         expect(302, 302, 302, 403, 403, 403, 404)),
    ],
    "indicators:import": [("get", lambda w: f"{IND}/P0/import/", None, ENTER)],
    "indicators:export": [("get", lambda w: f"{IND}/P0/export/?region={KAB}", None, SIGNED_IN)],
    "indicators:targets": [("get", lambda w: f"{IND}/P0/targets/?region={KAB}", None, MANAGE)],
    "indicators:verify": [("post", lambda w: f"{IND}/P0/verify/",
                           {"region": KAB, "period": "2025"},
                           expect(302, 302, 302, 403, 403, 403, 404))],
    "indicators:facts": [
        ("get", lambda w: f"{IND}/facts/", None, expect(302, 200, 200, 403, 200, 403, 200)),
        # A village operator answers for the own village only.
        ("post", lambda w: f"{IND}/facts/", lambda w: {"village": own_village(w),
                                                     "year": "2026", "F_PUSKESSOS": "1"},
         expect(302, 302, 302, 403, 302, 403, 404)),
        ("post", lambda w: f"{IND}/facts/", lambda w: {"village": other_village(w),
                                                     "year": "2026", "F_PUSKESSOS": "1"},
         expect(302, 302, 302, 403, 404, 403, 404)),
    ],
    "indicators:facts_import": [
        ("get", lambda w: f"{IND}/facts/import/", None,
         expect(302, 200, 200, 403, 200, 403, 200)),
    ],
    "indicators:quality": [("get", lambda w: f"{IND}/quality/", None,
                            expect(302, 200, 200, 200, 403, 403, 200))],
    "GET /api/v1/indicators": [("get", lambda w: "/api/v1/indicators", None, API_ALL)],
    "GET /api/v1/indicators/{code}": [("get", lambda w: "/api/v1/indicators/P0", None,
                                       API_ALL)],
    "GET /api/v1/indicators/{code}/values": [
        ("get", lambda w: f"/api/v1/indicators/P0/values?region={KAB}", None, API_ALL),
        ("get", lambda w: f"/api/v1/indicators/NIK_PCT/values?region={kecamatan(w)}", None,
         expect(401, 200, 200, 200, 404, 200, 404)),
    ],
    "POST /api/v1/indicators/{code}/values": [
        ("post", lambda w: "/api/v1/indicators/P0/values",
         {"region": KAB, "period": "2025", "value": "9.5"},
         expect(401, 201, 201, 403, 403, 403, 404)),
    ],
    "GET /api/v1/indicators/panel/{region}": [
        ("get", lambda w: f"/api/v1/indicators/panel/{KAB}", None, API_ALL)],
}
