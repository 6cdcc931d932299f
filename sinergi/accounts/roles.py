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
# registry.view: lists of persons and families (NIK masked);
# person.reveal: the full NIK of one person, audited; person.export: Excel
# exports of personal data, audited; registry.import: upload lists;
# meeting.view / meeting.manage: see meetings and commitments / hold meetings
# and set their commitments; brief.create: ask for a rakor brief PDF (a
# background job: a write, so not for the read-only leader, who reads the
# brief page and opens the PDFs made for the same scope); commitment.update:
# report progress (an officer only on commitments the own agency owns or
# supports); program.view:
# programs, groups, targets and convergence in scope; program.edit: programs,
# groups and enrollments (an officer only those of the own agency);
# import.oversee: see, cancel and review every import of the scope (others
# see only their own uploads). indicator.manage: the indicator catalogue and
# targets; indicator.enter: external indicator values (an officer only those
# of indicators the own agency keeps); indicator.verify: publish entered
# values (draft -> verified); villagefact.enter: a village's facts (a village
# operator only the own village). round.manage: survey rounds of income and
# group business (an officer only the own agency's rounds); income.enter: a
# family's income and a group's business in an open round (in scope);
# impact.view: panels and impact analyses (an officer only of the own
# agency's groups and programs).
CAPABILITIES: dict[str, set[str]] = {
    ADMINISTRATOR: {"agency.edit", "audit.view", "user.manage", "token.own", "registry.view",
                    "registry.import", "import.oversee", "person.reveal", "person.export",
                    "meeting.view", "meeting.manage", "brief.create", "commitment.update",
                    "program.view", "program.edit", "indicator.manage", "indicator.enter",
                    "indicator.verify", "villagefact.enter", "round.manage", "income.enter",
                    "impact.view"},
    COORDINATOR: {"agency.edit", "token.own", "registry.view", "registry.import",
                  "import.oversee", "person.reveal", "person.export", "meeting.view",
                  "meeting.manage", "brief.create", "commitment.update", "program.view",
                  "program.edit", "indicator.manage", "indicator.enter", "indicator.verify",
                  "villagefact.enter", "round.manage", "income.enter", "impact.view"},
    OFFICER: {"token.own", "registry.view", "person.reveal", "person.export", "meeting.view",
              "brief.create", "commitment.update", "program.view", "program.edit",
              "indicator.enter", "round.manage", "income.enter", "impact.view"},
    VILLAGE_OPERATOR: {"token.own", "registry.view", "registry.import", "person.reveal",
                       "person.export", "meeting.view", "brief.create", "program.view",
                       "villagefact.enter", "income.enter"},
    LEADER: {"registry.view", "meeting.view", "program.view", "impact.view"},
}
