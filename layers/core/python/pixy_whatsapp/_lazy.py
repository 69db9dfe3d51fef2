"""Names a package re-exports from submodules that are imported on first use.

A package whose `__init__` imported every submodule would put all of them on the cold
start of every function that imports any one name; with these, a function pays only for
the submodules whose names it reads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package_globals: dict[str, Any], homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's `__getattr__` and `__dir__`: `homes` maps a name to its submodule."""
    package = str(package_globals["__name__"])

    def __getattr__(name: str) -> Any:
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        package_globals[name] = value  # later reads skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(package_globals) | set(homes))

    return __getattr__, __dir__
