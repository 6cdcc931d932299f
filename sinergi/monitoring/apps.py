from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _brief_section(scope_root, region_code):
    # Imported when a brief is made: the analysis loads numpy and statsmodels.
    from . import verdicts

    return verdicts.brief_section(scope_root, region_code)


class MonitoringConfig(AppConfig):
    name = "sinergi.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring and impact")

    def ready(self):
        from sinergi.meetings import progress

        progress.register_section(_brief_section)
