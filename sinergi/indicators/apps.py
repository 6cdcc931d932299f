from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_catalogue(sender, **kwargs):
    from . import catalogue

    catalogue.install()


class IndicatorsConfig(AppConfig):
    name = "sinergi.indicators"
    label = "indicators"
    verbose_name = _("Indicators")

    def ready(self):
        from . import counters, services  # noqa: F401  (counters registers commitment counters)

        services.listen_to_changes()
        # The shipped catalogue, after every migration: codes not yet present only.
        post_migrate.connect(_install_catalogue, sender=self,
                             dispatch_uid="indicators_catalogue")
