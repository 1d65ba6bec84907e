"""The external-system layer (blocks/) knows nothing of the domain that uses it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = {"contract_sync", "subscription_events", "tasks", "flows", "deployments", "sandbox"}


def imported_packages(tree: ast.AST) -> set[str]:
    """The top-level package of every import in `tree`, lazy ones inside functions included."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_imported_packages_sees_lazy_imports() -> None:
    tree = ast.parse("def f():\n    from contract_sync.texts import say\n    import tasks.x\n")
    assert imported_packages(tree) == {"contract_sync", "tasks"}


def test_blocks_import_no_domain_package() -> None:
    modules = sorted((ROOT / "blocks").rglob("*.py"))
    assert modules, "blocks/ has modules"
    upward = {
        str(path.relative_to(ROOT)): sorted(imported_packages(ast.parse(path.read_text())) & DOMAIN)
        for path in modules
    }
    assert {path: packages for path, packages in upward.items() if packages} == {}
