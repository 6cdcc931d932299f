"""Live counters for commitments (meetings.progress): groups of a kind and
beneficiaries served by a program, in the commitment's region."""

from django.utils.translation import gettext_lazy as _

from sinergi.groups.models import Group, GroupKind
from sinergi.meetings.progress import Counter, register
from sinergi.regions.codes import village_in_q

from .models import SERVED, Enrollment, Program


def _kind_problem(param: str):
    if not GroupKind.objects.filter(code=param.strip().upper()).exists():
        return _("Give a group kind code, e.g. IR, UPPKA, BUMDES.")
    return None


def _program_problem(param: str):
    if not Program.objects.filter(code=param.strip().upper()).exists():
        return _("Give a program code, e.g. PKH.")
    return None


register(Counter(
    "groups.of_kind", _("Active groups of a kind"), _("groups"),
    lambda region, param, today: Group.objects.filter(
        village_in_q("village_code", region), kind_id=param.strip().upper(),
        is_active=True).count(),
    param_label=_("group kind code"), param_check=_kind_problem))
register(Counter(
    "programs.served", _("Beneficiaries served by a program (this year)"), _("beneficiaries"),
    lambda region, param, today: Enrollment.objects.filter(
        village_in_q("village_code", region), program__code=param.strip().upper(),
        year=today.year, status__in=SERVED).count(),
    param_label=_("program code"), param_check=_program_problem))
