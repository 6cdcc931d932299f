from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "sinergi.programs"
    label = "programs"
    verbose_name = _("Programs and beneficiaries")

    def ready(self):
        from . import counters  # noqa: F401  (registers the commitment counters)
