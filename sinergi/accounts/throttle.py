"""Who is signing in from where: the client address and the lock message.

Throttling itself (counting failures, refusing while locked) runs in the
authentication backend, so every sign-in path is covered: the Sinergi sign-in
page, Django admin's login and any future form that calls ``authenticate``.
"""

import ipaddress

from django.conf import settings
from django.utils.translation import gettext as _

# The backend leaves the remaining lock time on the request under this name,
# so a login form can say why it refused instead of "wrong password".
LOCKED_ATTR = "sinergi_login_locked_for"


def _trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request) -> str:
    """The client's address, seen through the trusted reverse proxies.

    ``REMOTE_ADDR`` is the client unless it is one of SINERGI_TRUSTED_PROXIES.
    Then X-Forwarded-For is read from the right: each trusted proxy appends
    the address it got the request from, so the last entry that is not a
    trusted proxy is the client. Entries further left were written by the
    client itself and prove nothing.
    """
    if request is None:
        return ""
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    networks = [ipaddress.ip_network(p, strict=False) for p in settings.TRUSTED_PROXIES]
    if not networks or not _trusted(remote, networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed([part.strip() for part in forwarded.split(",")]):
        if _trusted(entry, networks):
            continue
        try:
            return str(ipaddress.ip_address(entry))
        except ValueError:
            # Not an address: the header is malformed past this point; count
            # the proxy rather than trust anything in it.
            return remote
    return remote


def locked_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return _(
        "Too many failed sign-ins. Wait %(minutes)d minutes and try again, or ask "
        "your administrator to reset your password."
    ) % {"minutes": minutes}
