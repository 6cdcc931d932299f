from django.conf import settings

from .access import user_can


def sinergi(request):
    """Navigation flags for the base layout, by capability not role name."""
    user = getattr(request, "user", None)
    return {
        "nav": {
            "audit": user_can(user, "audit.view"),
            "admin": bool(user and user.is_authenticated and user.is_staff),
            "tokens": user_can(user, "token.own"),
            "registry": user_can(user, "registry.view"),
            "meetings": user_can(user, "meeting.view"),
            "programs": user_can(user, "program.view"),
            "monitoring": user_can(user, "income.enter") or user_can(user, "impact.view"),
            "impact": user_can(user, "impact.view"),
        },
        "LANGUAGES": settings.LANGUAGES,
    }
