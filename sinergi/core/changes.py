"""Who must hear that the data changed, and where.

The apps that own data (the registry, groups, programs and the imports that
fill them) call ``changed`` in the transaction of their write, naming what
changed ("registry", "groups", "programs") and the villages it touched.
Apps above them (the indicators) ``listen`` and mark what they must
recompute, so a change counts only the cells it touched and the owners of
the data need not know who derives figures from it (the layers point one
way: core imports no other app, the owners import no app above them).
"""

from collections.abc import Callable, Iterable

REGISTRY, GROUPS, PROGRAMS = "registry", "groups", "programs"
SOURCES = (REGISTRY, GROUPS, PROGRAMS)

Listener = Callable[[str, set[str]], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Call ``listener(source, village_codes)`` on every change (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


def changed(source: str, village_codes: Iterable[str | None]) -> None:
    """Tell the listeners that ``source`` data of ``village_codes`` changed.
    Call it inside the writing transaction: what the listeners write then
    commits or rolls back with the change."""
    if source not in SOURCES:
        raise ValueError(f"unknown source of change: {source}")
    codes = {code for code in village_codes if code}
    if not codes:
        return
    for listener in _listeners:
        listener(source, codes)
