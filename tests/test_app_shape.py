"""Every app has the same shape, the one docs/architecture.md describes, and
the layers point one way: core imports no other Sinergi app, nothing imports
the dashboards. A file the contract does not name fails here until the
architecture document names it (its table of each app's own modules)."""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

import sinergi

PACKAGE = Path(sinergi.__file__).resolve().parent
ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"

# The app contract: what an app may hold by role, and what every app holds.
CONTRACT = {"__init__.py", "apps.py", "models.py", "selectors.py", "services.py", "api.py",
            "views.py", "urls.py", "forms.py", "admin.py", "demo.py", "jobs.py", "commands.py",
            "migrations"}
REQUIRED = {"__init__.py", "apps.py", "models.py", "selectors.py", "views.py", "urls.py"}
# The core is the ground floor, not a domain: no selectors or pages of its own
# beyond the health check.
REQUIRED_CORE = {"__init__.py", "apps.py", "models.py"}


def sinergi_apps() -> list[str]:
    return [config.name.split(".", 1)[1] for config in apps.get_app_configs()
            if config.name.startswith("sinergi.")]


def own_modules() -> dict[str, set[str]]:
    """The table "Each app's own modules" of docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("### Each app's own modules", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        found = re.match(r"^\| `(\w+)` \|(.*)\|\s*$", line)
        if found:
            table[found.group(1)] = set(re.findall(r"`([\w./]+?)/?`", found.group(2)))
    return table


def test_the_architecture_document_lists_every_app():
    assert set(own_modules()) == set(sinergi_apps())


@pytest.mark.parametrize("app", sinergi_apps())
def test_every_app_has_the_files_of_the_contract_and_no_other(app):
    folder = PACKAGE / app
    present = {p.name for p in folder.iterdir()
               if p.name != "__pycache__" and (p.is_dir() or p.suffix == ".py")}
    required = REQUIRED_CORE if app == "core" else REQUIRED
    missing = required - present
    assert not missing, f"{app} lacks {sorted(missing)} (docs/architecture.md, app contract)"
    unnamed = present - CONTRACT - own_modules()[app]
    assert not unnamed, (f"{app} holds {sorted(unnamed)}, which neither the app contract nor "
                         "the app's row in docs/architecture.md names")


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_core_imports_no_other_sinergi_app():
    others = {app for app in sinergi_apps() if app != "core"}
    offending = {}
    for path in (PACKAGE / "core").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        hits = {m for m in imports_of(path)
                if m.startswith("sinergi.") and m.split(".")[1] in others}
        if hits:
            offending[str(path.relative_to(PACKAGE))] = sorted(hits)
    assert not offending


def test_no_app_imports_the_dashboards():
    offending = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if "dashboards" not in path.parts
                 and any(m.startswith("sinergi.dashboards") for m in imports_of(path))]
    assert not offending


def test_no_module_imports_another_module_s_private_names():
    offending = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (
                    node.module or "").startswith("sinergi")):
                private = [a.name for a in node.names
                           if a.name.startswith("_") and not a.name.startswith("__")]
                if private:
                    offending.append(f"{path.relative_to(PACKAGE)}: {private}")
    assert not offending
