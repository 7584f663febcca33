"""Print refundkit's layers and the imports between them, from the code; exit 1 if a layer imports a higher one.

    python docs/layers.py            # the picture (what docs/architecture.md shows), then any violation
    python docs/layers.py --check    # only the violations (tests/test_layers.py runs this check)

A module's layer is the first entry of LAYERS whose prefix it starts with. Imports inside ``if TYPE_CHECKING:``
are left out (they are not imports at run time), and so are imports of a module's own layer.
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "refundkit"

#: (layer, module prefixes), lowest first. A layer may import only the layers listed before it, except the two
#: outside the stack: the sandbox (VTEX's stand-in, which may use only the base) and the composition root.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        ("money", "timeutil", "config", "errors", "textsafety", "storetime", "argtypes", "version", "statuses", "lazy"),
    ),
    ("transport", ("vtex.transport", "vtex.limiter")),
    ("vtex", ("vtex",)),
    ("domain", ("ledger", "doctor")),
    ("analytics", ("analytics",)),
    ("session", ("session",)),  # connect(): settings, client and ledger (or the embedded sandbox) in one call
    ("presentation", ("present",)),
]
OUTSIDE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # layer: (module prefixes, layers it may import)
    "sandbox": (("sandbox",), ("base",)),
    "root": (("testing", "__init__", "__main__"), ("*",)),  # the package's front door and the test helpers
}
ORDER = [name for name, _ in LAYERS]


def layer_of(module: str) -> str:
    """``module`` is relative to the package, dotted (``vtex.oms``)."""
    for name, (prefixes, _) in OUTSIDE.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    for name, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    raise ValueError(f"refundkit.{module} belongs to no layer: add it to LAYERS in docs/layers.py")


def _module_name(path: Path, package: Path) -> str:
    rel = path.relative_to(package).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _resolve(current: str, is_package: bool, node: ast.ImportFrom, root: Path) -> list[str]:
    """Package-relative names a ``from ... import`` brings in (``refundkit.x`` or ``..x``); [] for other packages."""
    if node.level == 0:
        if not node.module or not (node.module == "refundkit" or node.module.startswith("refundkit.")):
            return []
        base = node.module.split(".")[1:]
    else:
        here = current.split(".") if current != "__init__" else []
        package = here if is_package else here[:-1]
        up = node.level - 1
        base = (package[: len(package) - up] if up else package) + (node.module.split(".") if node.module else [])
    # `from package import name`: the submodule `name` when there is one, else the package itself
    folder = root.joinpath(*base)
    out = []
    for alias in node.names:
        if (folder / alias.name).is_dir() or (folder / f"{alias.name}.py").is_file():
            out.append(".".join([*base, alias.name]))
        else:
            out.append(".".join(base) if base else "__init__")
    return out


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def imports(*, type_checking: bool = False) -> list[tuple[str, str, str]]:
    """(importing module, imported module, where) for every run-time import within refundkit; with
    ``type_checking``, the imports inside ``if TYPE_CHECKING:`` blocks too."""
    return list(_imports(PACKAGE, type_checking))


@functools.cache
def _imports(package: Path, type_checking: bool = False) -> tuple[tuple[str, str, str], ...]:
    out = []
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path, package)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set() if type_checking else _type_checking_lines(tree)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(module, path.name == "__init__.py", node, package)
            elif isinstance(node, ast.Import):
                targets = [a.name.split(".", 1)[1] for a in node.names if a.name.startswith("refundkit.")]
            for target in targets:
                out.append((module, target, f"refundkit/{path.relative_to(package)}:{node.lineno}"))
    return tuple(out)


def allowed(source: str, target: str) -> bool:
    if source == target:
        return True
    if source in OUTSIDE:
        may = OUTSIDE[source][1]
        return "*" in may or target in may
    if target in OUTSIDE:  # the embedded sandbox (connect) and `refundkit sandbox`/`demo` serve the sandbox
        return target == "sandbox" and source in ("session", "presentation")
    return ORDER.index(target) < ORDER.index(source)


def violations() -> list[str]:
    found = []
    for module, target, where in imports():
        a, b = layer_of(module), layer_of(target)
        if not allowed(a, b):
            found.append(f"{where}: refundkit.{module} ({a}) imports refundkit.{target} ({b})")
    return found


def cycles(*, type_checking: bool = False) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (run-time imports, lazy ones included;
    with ``type_checking``, the imports only type checkers see too, a loop that merely hides from the interpreter).
    A package importing its own submodules (``__init__`` re-exports) is not a loop unless a submodule imports the
    package back."""
    graph: dict[str, set[str]] = {}
    for module, target, _ in imports(type_checking=type_checking):
        graph.setdefault(module, set()).add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def picture() -> str:
    edges = {(layer_of(m), layer_of(t)) for m, t, _ in imports() if layer_of(m) != layer_of(t)}
    lines = ["Layers, lowest first (each may import only the layers listed before it):", ""]
    for name, prefixes in LAYERS:
        lines.append(f"  {name:<13} {', '.join(prefixes)}")
    for name, (prefixes, _) in OUTSIDE.items():
        lines.append(f"  {name:<13} {', '.join(prefixes)}   (outside the stack)")
    lines += ["", "Which layer imports which (from the code):", ""]
    for a in sorted({a for a, _ in edges}, key=_rank):
        targets = sorted({b for x, b in edges if x == a}, key=_rank)
        marked = [b if allowed(a, b) else f"{b} (NOT ALLOWED)" for b in targets]
        lines.append(f"  {a:<13} -> {', '.join(marked)}")
    return "\n".join(lines)


def _rank(layer: str) -> int:
    return ORDER.index(layer) if layer in ORDER else len(ORDER) + list(OUTSIDE).index(layer)


def main(argv: list[str]) -> int:
    if "--check" not in argv:
        print(picture())
    loops = cycles(type_checking=True)  # a loop behind `if TYPE_CHECKING:` is a loop all the same
    bad = violations() + [f"import cycle: {' <-> '.join(group)}" for group in loops]
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
