"""The roles a Sinergi account can have, and what each may do.

Scope is separate from role: every account is tied to a region subtree (and
an agency officer to an agency); the role says what it may do there.
"""

from django.utils.translation import gettext_lazy as _

ADMINISTRATOR = "administrator"
COORDINATOR = "coordinator"
OFFICER = "officer"
VILLAGE_OPERATOR = "village_operator"
LEADER = "leader"

ROLE_CHOICES = [
    (ADMINISTRATOR, _("Administrator")),
    (COORDINATOR, _("Coordinator (Bappeda / TKPK)")),
    (OFFICER, _("Agency officer (OPD)")),
    (VILLAGE_OPERATOR, _("Village operator")),
    (LEADER, _("Leader (read-only)")),
]

# Capabilities by role. Pages, API and commands ask `user_can`, never the
# role name, so adding a role means adding one line here.
CAPABILITIES: dict[str, set[str]] = {
    ADMINISTRATOR: {"agency.edit", "audit.view", "user.manage", "token.own"},
    COORDINATOR: {"agency.edit", "token.own"},
    OFFICER: {"token.own"},
    VILLAGE_OPERATOR: {"token.own"},
    LEADER: set(),
}
