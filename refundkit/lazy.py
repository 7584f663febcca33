"""Names a package offers, imported from their submodules only when first used.

A package's ``__init__`` that imports every submodule makes each command pay for all of them: a report from the
local store would load the HTTP client, the ledger's import and Master Data. With :func:`lazy_names` a package lists
where each name lives, imports them for type checkers only, and loads a submodule when one of its names is used::

    if TYPE_CHECKING:
        from .client import VtexClient
    __getattr__ = lazy_names(__name__, {"VtexClient": ".client"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each name of ``where`` from its (relative) submodule
    on first use, then keeps it in the package like an import at the top would."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
