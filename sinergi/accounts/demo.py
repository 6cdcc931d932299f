import secrets

from sinergi.agencies.models import Agency
from sinergi.regions.models import Region

from . import roles
from .models import User
from .services import user_create, user_set_password

DEMO_KABUPATEN = "19.04"  # Bangka Tengah, an Industri Rumahan pilot


def _password() -> str:
    # Fresh on every demo run and printed, so no password lives in the code.
    return "demo-" + secrets.token_urlsafe(8)


def build(ctx) -> None:
    """One account per role, with passwords printed for the person trying it."""
    kab = f"{ctx.province}.{DEMO_KABUPATEN.split('.')[1]}"
    village = (
        Region.objects.filter(code__startswith=kab + ".", level=4, retired_in="")
        .order_by("code")
        .first()
    )
    officer_agency = Agency.objects.filter(region_id=kab, short_name="DP3ACSKB").first()
    coordinator_agency = Agency.objects.filter(region_id=ctx.province, short_name="Bappeda").first()
    accounts = [
        ("admin", roles.ADMINISTRATOR, ctx.province, None, "Admin", "Sinergi"),
        ("koordinator", roles.COORDINATOR, ctx.province,
         coordinator_agency.id if coordinator_agency else None, "Rina", "Bappeda"),
        ("petugas", roles.OFFICER, kab, officer_agency.id if officer_agency else None,
         "Sari", "DP3ACSKB"),
        ("operator", roles.VILLAGE_OPERATOR, village.code, None, "Budi", "Operator"),
        ("pimpinan", roles.LEADER, ctx.province, None, "Pak", "Sekda"),
    ]
    for username, role, region, agency_id, first, last in accounts:
        password = _password()
        user = User.objects.filter(username=username).first()
        if user is None:
            user_create(actor=None, username=username, password=password, role=role,
                        region_code=region, agency_id=agency_id, first_name=first,
                        last_name=last)
        else:
            user_set_password(actor=None, user=user, password=password)
        label = dict(roles.ROLE_CHOICES)[role]
        ctx.logins.append((str(label), username, password, region))
    ctx.say(f"Accounts: {len(accounts)} demo users (one per role)")
