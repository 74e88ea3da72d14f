"""Dependencies point inward: scraper and alerts never import each other, db imports neither,
none of them imports the composition root, and the exception tree (cwerrors) imports nothing
of the project, so every layer may derive its errors from it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "scraper": {"alerts", "db", "councilwatch"},
    "alerts": {"scraper", "db", "councilwatch"},
    "db": {"scraper", "alerts", "councilwatch"},
    "cwerrors": {"scraper", "alerts", "db", "councilwatch"},
}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_inward(package: str) -> None:
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offences, "\n".join(offences)
