"""The house rules of docs/architecture.md, checked on the source: layers import only downward, service domains
form no cycle, nobody borrows a sibling domain's private helper, and services never import FastAPI."""

import ast
from collections import defaultdict
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
LAYERS = ["api", "commands", "services", "models", "core"]  # highest first; `cli`, `main`, `serve` wire them


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every `import`/`from … import` in a file, wherever it stands (lazy imports too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def app_files() -> list[tuple[str, Path]]:
    return [(".".join(p.relative_to(APP.parent).with_suffix("").parts), p) for p in APP.rglob("*.py")]


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in LAYERS else None


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] != ["app", "services"] or len(parts) < 3:
        return None
    return parts[2]


def test_layers_import_only_downward():
    wrong = []
    for module, path in app_files():
        mine = layer_of(module)
        if mine is None:
            continue
        for target, _ in imports_of(path):
            theirs = layer_of(target)
            if theirs and LAYERS.index(theirs) < LAYERS.index(mine):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_services_never_import_fastapi_or_starlette():
    wrong = [f"{module} imports {target}" for module, path in app_files() if module.startswith("app.services")
             for target, _ in imports_of(path) if target.split(".")[0] in {"fastapi", "starlette"}]
    assert wrong == []


def test_service_domains_form_no_cycle():
    edges: dict[str, set[str]] = defaultdict(set)  # domain → the domains it imports
    for module, path in app_files():
        mine = domain_of(module)
        for target, names in imports_of(path):
            targets = [target] + ([f"{target}.{n}" for n in names] if target == "app.services" else [])
            for t in targets:
                theirs = domain_of(t)
                if mine and theirs and theirs != mine:
                    edges[mine].add(theirs)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in edges.get(start, ()))

    cycles = sorted(f"{a} → {b} → … → {a}" for a in list(edges) for b in edges[a] if reaches(b, a, {b}))
    assert cycles == []


def test_no_domain_borrows_a_sibling_domains_private_helper():
    wrong = []
    for module, path in app_files():
        mine = domain_of(module)
        for target, names in imports_of(path):
            theirs = domain_of(target)
            if theirs and theirs != mine:
                wrong += [f"{module} imports {target}.{n}" for n in names if n.startswith("_")]
    assert wrong == []


def test_the_local_time_zone_is_defined_once():
    defined = [str(p.relative_to(APP)) for _, p in app_files() if '"Asia/Ho_Chi_Minh"' in p.read_text("utf-8")]
    assert defined == ["core/localtime.py"]
