from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_catalogue(sender, **kwargs):
    from . import catalogue

    catalogue.install()


def _data_changed(source: str, village_codes: set[str]) -> None:
    # Imported when a change happens, not at start: services reaches the job
    # runner, which loads polars, whose threads must not start in the serving
    # process before gunicorn forks.
    from . import services

    services.mark_stale(source, village_codes)


class IndicatorsConfig(AppConfig):
    name = "sinergi.indicators"
    label = "indicators"
    verbose_name = _("Indicators")

    def ready(self):
        from sinergi.core import changes

        from . import counters  # noqa: F401  (registers the commitment counters)

        changes.listen(_data_changed)
        # The shipped catalogue, after every migration: codes not yet present only.
        post_migrate.connect(_install_catalogue, sender=self,
                             dispatch_uid="indicators_catalogue")
