"""The domain layer imports nothing but the standard library and itself (issue 2 acceptance)."""

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "kraken_monitor" / "domain"


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module)
    return roots


def test_every_domain_module_imports_only_stdlib_or_the_domain():
    modules = sorted(DOMAIN.glob("*.py"))
    assert len(modules) >= 8  # models, errors, margin, figures, costs, whatif, alerts, paper_account, ...
    offenders = {}
    for path in modules:
        foreign = {
            name for name in _imported_roots(path)
            if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("kraken_monitor.domain")
        }  # fmt: skip
        if foreign:
            offenders[path.name] = sorted(foreign)
    assert offenders == {}
