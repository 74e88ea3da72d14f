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


def test_the_composition_root_writes_no_sql() -> None:
    """councilwatch/ wires; every statement lives in db/ behind a named function. It may name
    an Engine or a Connection (to pass them on) and catch SQLAlchemy's errors, nothing more."""
    allowed = {"sqlalchemy": {"Engine", "Connection"}, "sqlalchemy.exc": None}
    offences = []
    for path in sorted((ROOT / "councilwatch").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
                offences += [
                    f"{path.relative_to(ROOT)} imports {name}"
                    for name in names
                    if name.split(".")[0] in ("sqlalchemy", "sqlmodel") or name == "db.tables"
                ]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                module = node.module
                if module == "db.tables" or module.split(".")[0] == "sqlmodel":
                    offences.append(f"{path.relative_to(ROOT)} imports {module}")
                elif module.split(".")[0] == "sqlalchemy":
                    permitted = allowed.get(module, set())
                    imported = {alias.name for alias in node.names}
                    if permitted is not None and not imported <= permitted:
                        offences.append(f"{path.relative_to(ROOT)} imports {module}: {imported}")
    assert not offences, "\n".join(offences)


def test_reading_the_config_imports_no_parser() -> None:
    """Every source's settings join the config through the registry; that must not load the
    sources' parsers (lxml and all) into every command's start-up."""
    import subprocess
    import sys

    from scraper.sources import registry

    # a package's ``source`` module is the one that imports its parsers
    parsers = [f"{package}.source" for package in registry.PACKAGES]
    code = (
        "import sys, councilwatch.config\n"
        f"loaded = [m for m in {['lxml', 'trafilatura', *parsers]!r} if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == ""
