"""The shape of the code: no import cycle inside webapp/, and only the unit-of-work layers commit."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEBAPP = ROOT / "webapp"

#: Where a transaction may end: the layers that own a unit of work. Everything else only flushes.
MAY_COMMIT = {
    # views: each request is one unit of work
    "webapp/accounts/views.py",
    "webapp/campaigns/views.py",
    "webapp/organizations/views.py",
    "webapp/mutual_aid/views/base.py",
    "webapp/mutual_aid/views/commitments.py",
    "webapp/mutual_aid/views/coordinator.py",
    "webapp/mutual_aid/views/member.py",
    "webapp/mutual_aid/views/public.py",
    "webapp/payments/views/backer.py",
    "webapp/payments/views/organizer.py",
    "webapp/payments/views/sandbox.py",
    "webapp/payments/matching/views.py",
    "webapp/payments/recurring/views.py",
    "webapp/membership/views.py",
    "webapp/governance/views.py",
    "webapp/payments/expenses/views.py",
    "webapp/payments/hosts/views.py",
    "webapp/privacy/views.py",
    "webapp/progress_reports/views.py",
    "webapp/impact/views.py",
    "webapp/errorpages.py",  # a failed request's transaction is rolled back before its error page
    # the webhook endpoint's unit of work: one event, one transaction
    "webapp/payments/webhooks/endpoint.py",
    # tasks, and the loops they and the CLI run with one commit per item
    "webapp/campaigns/tasks.py",
    "webapp/membership/tasks.py",
    "webapp/mutual_aid/tasks.py",
    "webapp/payments/tasks.py",
    "webapp/payments/batches.py",
    "webapp/privacy/tasks.py",
    "webapp/governance/tasks.py",
    "webapp/progress_reports/tasks.py",
    "webapp/impact/tasks.py",
    # CLI commands
    "webapp/accounts/commands.py",
    "webapp/payments/commands.py",
    "webapp/privacy/commands.py",
    "webapp/demo.py",  # the `flask demo` command's seed data
    # the worker and jobs machinery, and mail (which sends after commit and never ends a transaction itself)
    "webapp/worker.py",
    "webapp/jobs.py",
    "webapp/mail/__init__.py",
}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in WEBAPP.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every webapp module `name` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    found.add(f"{source}.{alias.name}")
                elif source in modules:
                    found.add(source)
    found.discard(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as one cycle through them."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_path_through(graph, set(c)) for c in components]


def _path_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """One concrete cycle inside a component, for a readable failure: a -> b -> ... -> a."""
    start = min(component)
    previous, frontier = {start: None}, [start]
    while frontier:
        node = frontier.pop(0)
        for nxt in sorted(graph[node] & component):
            if nxt == start:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return list(reversed(path)) + [start]
            if nxt not in previous:
                previous[nxt] = node
                frontier.append(nxt)
    return sorted(component)


def test_no_import_cycle_between_webapp_modules():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "webapp.payments.pledging.services" in graph["webapp.payments.collection.services"]  # the graph is real
    cycles = _cycles(graph)
    assert not cycles, "import cycles inside webapp/:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]


def _ends_a_transaction(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr in ("commit", "rollback") and not node.args


def test_only_views_tasks_commands_and_the_webhook_endpoint_commit():
    offenders = []
    for path in sorted(WEBAPP.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in MAY_COMMIT:
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if _ends_a_transaction(node):
                offenders.append(f"{relative}:{node.lineno} .{node.func.attr}()")
    assert not offenders, "services only flush; these end a transaction:\n" + "\n".join(offenders)


def test_every_place_allowed_to_commit_exists():
    """A stale entry would let a new module of the same name commit unnoticed."""
    assert sorted(p for p in MAY_COMMIT if not (ROOT / p).exists()) == []
