from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConvergenceConfig(AppConfig):
    name = "sinergi.convergence"
    label = "convergence"
    verbose_name = _("Convergence")
