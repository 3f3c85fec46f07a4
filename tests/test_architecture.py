"""The house rules of docs/architecture.md, checked on the source: layers import only downward, a service domain
imports only the rooms listed above it in the map (so they form no cycle), nobody borrows a sibling domain's
private helper, and services never import FastAPI."""

import ast
import re
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


def domain_imports() -> list[tuple[str, str, str]]:
    """(module, its domain, the other domain it imports) for every import between two service domains."""
    found = []
    for module, path in app_files():
        mine = domain_of(module)
        for target, names in imports_of(path):
            targets = [target] + ([f"{target}.{n}" for n in names] if target == "app.services" else [])
            for t in targets:
                theirs = domain_of(t)
                if mine and theirs and theirs != mine:
                    found.append((module, mine, theirs))
    return found


def rooms() -> tuple[list[str], list[str]]:
    """The rooms table of docs/architecture.md, top row first, and the cross-domain modules listed after it: the
    doc is the one ordered list, so a new domain or a reordering cannot pass without the map saying so."""
    section = (APP.parent / "docs" / "architecture.md").read_text("utf-8").split("## The rooms of `app/services/`")[1]
    table = [re.match(r"\| `([a-z_]+)(?:\.py|/)` \|", line) for line in section.splitlines()]
    cross = section.split("Cross-domain modules")[1].split("\n\n")[0]
    return [m.group(1) for m in table if m], re.findall(r"`([a-z_]+)\.py`", cross)


def test_every_service_domain_has_a_room_in_the_map():
    order, cross = rooms()
    present = {p.stem for p in (APP / "services").iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert sorted(present) == sorted(order + cross)


def test_the_services_docstring_lists_the_rooms_in_the_maps_order():
    docstring = ast.get_docstring(ast.parse((APP / "services" / "__init__.py").read_text("utf-8")))
    listed = re.findall(r"^    ([a-z_]+) {2,}", docstring, re.MULTILINE)
    assert listed == rooms()[0]


def test_a_domain_imports_only_domains_listed_above_it():
    order, cross = rooms()
    wrong = sorted({f"{module} ({mine}) imports {theirs}" for module, mine, theirs in domain_imports()
                    if mine not in cross and (theirs in cross or order.index(theirs) > order.index(mine))})
    assert wrong == []


def test_service_domains_form_no_cycle():
    edges: dict[str, set[str]] = defaultdict(set)  # domain → the domains it imports
    for _, mine, theirs in domain_imports():
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


# The boundaries the default rule itself names: where sessions are made, the request's unit of work, and the CLI
# commands (each its own unit of work). Everywhere else a session, a commit or an autocommit read is an exception.
BOUNDARIES = ("core/db.py", "api/deps.py", "commands/")
EXCEPTION_COMMENT = re.compile(r"# Transaction exception «([^»]+)» \(docs/architecture\.md\)")


def transaction_exceptions() -> dict[str, str]:
    """name → the `where` column of the transaction rule's table of exceptions."""
    section = (APP.parent / "docs" / "architecture.md").read_text("utf-8").split("## The transaction rule")[1]
    rows = (line.split(" | ") for line in section.split("\n## ")[0].splitlines() if line.startswith("| "))
    return {cells[0].removeprefix("| "): cells[1] for cells in rows
            if len(cells) == 3 and cells[0] not in ("| name", "| ---")}


def opens_its_own_transaction(node: ast.Call) -> bool:
    """`db.session()`, `db.autocommit()`, `session.commit()`, `engine.connect()`/`.begin()`, AUTOCOMMIT."""
    func = node.func
    if any(k.arg == "isolation_level" and isinstance(k.value, ast.Constant) and k.value.value == "AUTOCOMMIT"
           for k in node.keywords):
        return True
    if not isinstance(func, ast.Attribute):
        return False
    owner = func.value.attr if isinstance(func.value, ast.Attribute) else getattr(func.value, "id", "")
    return ((func.attr in {"session", "autocommit"} and owner.lstrip("_") == "db")
            or (func.attr == "commit" and not node.args and not node.keywords)
            or (func.attr in {"connect", "begin"} and owner == "engine"))


def test_every_own_transaction_names_its_exception_in_the_table():
    table = transaction_exceptions()
    assert "jobs own their sessions" in table
    wrong = []
    for _, path in app_files():
        where = str(path.relative_to(APP))
        if where.startswith(BOUNDARIES):
            continue
        lines = path.read_text("utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not (isinstance(node, ast.Call) and opens_its_own_transaction(node)):
                continue
            above = node.lineno - 1
            while above > 0 and lines[above - 1].strip().startswith("#"):
                above -= 1
            named = EXCEPTION_COMMENT.findall("\n".join(lines[above:node.lineno - 1]))
            places = re.findall(r"`([^`]+\.py)", table.get(named[-1], "")) if named else []
            if not any(where.endswith(place) for place in places):
                wrong.append(f"{where}:{node.lineno} names {named or 'no exception'}")
    assert sorted(wrong) == []
