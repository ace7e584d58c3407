"""The public API: ``planner`` and ``models`` re-export what a notebook or library user needs,
imported on first use; the notebooks use only it, and the benchmarks no module deeper than
``planner.x`` and no private name."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import models
import planner

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("planner", "models")


def _type_checking_imports(package: ModuleType) -> dict[str, str]:
    """name -> module of the imports under ``if TYPE_CHECKING:`` (what mypy and editors see)."""
    assert package.__file__ is not None
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for item in node.body:
                assert isinstance(item, ast.ImportFrom) and item.module is not None
                if item.module == "typing":
                    continue
                for alias in item.names:
                    name = alias.asname or alias.name
                    if name == "plots":
                        out[name] = f"{item.module}.{name}"
                    elif alias.asname:
                        out[name] = f"{item.module}:{alias.name}"
                    else:
                        out[name] = item.module
    return out


@pytest.mark.parametrize("package", [planner, models], ids=PACKAGES)
def test_every_public_name_is_listed_once_and_resolves(package: ModuleType) -> None:
    exports = package._EXPORTS
    assert sorted(package.__all__) == sorted(exports) == sorted(_type_checking_imports(package))
    assert _type_checking_imports(package) == exports
    for name, where in exports.items():
        module, _, attribute = where.partition(":")
        loaded = importlib.import_module(module)
        expected = loaded if module.endswith(f".{name}") else getattr(loaded, attribute or name)
        assert getattr(package, name) is expected, name
    with pytest.raises(AttributeError):
        _ = package.no_such_name


@pytest.mark.parametrize("package", [planner, models], ids=PACKAGES)
def test_no_public_name_is_a_submodule(package: ModuleType) -> None:
    # Importing planner.audit sets the attribute planner.audit to the module: a function of that
    # name would be replaced (hence audit_platform, verify_platform).
    assert package.__file__ is not None
    folder = Path(package.__file__).parent
    submodules = {p.stem for p in folder.glob("*.py")} | {
        p.parent.name for p in folder.glob("*/__init__.py")
    }
    clashes = {n for n in package.__all__ if n in submodules and n != "plots"}
    assert not clashes


def test_the_api_a_notebook_needs_is_there() -> None:
    for name in (
        "load_platform",
        "save_platform",
        "generate_platform",
        "reference_platform",
        "build_examples",
        "state_findings",
        "plan_host_failure",
        "plan_datacenter_failure",
        "plan_first_placement",
        "plan_backups",
        "audit_platform",
        "plan_headroom",
        "verify_platform",
        "prove_all",
        "check_plan",
        "Plan",
        "Status",
        "SolveParams",
        "DatabaseOutcome",
        "DrplanError",
        "InputError",
        "PlanDefect",
    ):
        assert name in planner.__all__, name
    assert set(models.exceptions.__all__) <= set(models.__all__)


def test_importing_the_packages_loads_no_solver() -> None:
    code = (
        "import sys, planner, models; "
        "print([m for m in ('ortools', 'z3', 'matplotlib', 'distributed', 'pydantic') "
        "if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def _imports(source: str) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names) of every import of a drplan package in ``source``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module.split(".")[0] in PACKAGES:
                out.append((node.module, tuple(a.name for a in node.names)))
        elif isinstance(node, ast.Import):
            out += [(a.name, ()) for a in node.names if a.name.split(".")[0] in PACKAGES]
    return out


def _notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = [
        line
        for cell in cells
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
        if not line.lstrip().startswith(("%", "!"))  # IPython magics
    ]
    return "\n".join(lines)


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_use_only_the_public_api(path: Path) -> None:
    imports = _imports(_notebook_code(path))
    assert imports, "the notebook imports nothing of drplan"
    for module, names in imports:
        assert module in PACKAGES, f"{path.name}: imports {module}: use `from planner import ...`"
        public = importlib.import_module(module).__all__
        assert set(names) <= set(public), f"{path.name}: {set(names) - set(public)} not public"


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_benchmarks_import_no_deeper_than_planner_x_and_no_private_name(path: Path) -> None:
    for module, names in _imports(path.read_text(encoding="utf-8")):
        assert module.count(".") <= 1, f"{path.name}: imports {module}: use its package"
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{path.name}: imports private names {private} from {module}"
