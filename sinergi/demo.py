"""`sinergi demo`: build the demo region, app by app.

Each Sinergi app may have a ``demo.py`` with ``build(ctx: DemoContext)``;
the runner calls them in INSTALLED_APPS order, so a new capability adds
its demo data by adding that one file. Every build is idempotent: running
the demo again refreshes, it does not duplicate.
"""

import importlib
import importlib.util
import time
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction

from sinergi.core.bulk import analyze

DEMO_PROVINCE = "19"  # Kepulauan Bangka Belitung


@dataclass
class DemoContext:
    province: str = DEMO_PROVINCE
    scale: str = "default"
    # (role label, username, password, scope) for the printed login table.
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.log.append(line)
        print(line, flush=True)


def demo_build(ctx: DemoContext) -> DemoContext:
    for config in apps.get_app_configs():
        if not config.name.startswith("sinergi."):
            continue
        module_name = f"{config.name}.demo"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        started = time.perf_counter()
        with transaction.atomic():
            module.build(ctx)
        ctx.say(f"  {config.label}: {time.perf_counter() - started:.1f} s")
    # Planner statistics for everything the demo wrote, before anyone asks.
    analyze()
    return ctx
