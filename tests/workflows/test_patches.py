"""The registry of patch ids (workflows/patches.py) and the workflow code agree: every id the code passes to
`workflow.patched` / `workflow.deprecate_patch` is registered, and every registered id is still passed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from workflows import patches

WORKFLOWS = Path(patches.__file__).parent
PATCH_CALLS = {"patched", "deprecate_patch"}


def _constants() -> dict[str, str]:
    return {name: value for name, value in vars(patches).items() if name.isupper() and isinstance(value, str)}


def _uses(path: Path) -> list[tuple[int, str]]:
    """(line, id) of every patch call in one module, and of every `patches.NAME` it reads elsewhere."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    from_registry = {
        alias.asname or alias.name: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "workflows.patches"
        for alias in node.names
    }
    constants = _constants()

    def resolve(node: ast.expr) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "patches":
            assert node.attr in constants, f"{path.name}:{node.lineno}: patches.{node.attr} is not a patch id"
            return constants[node.attr]
        if isinstance(node, ast.Name) and node.id in from_registry:
            return constants[from_registry[node.id]]
        raise AssertionError(
            f"{path.name}:{node.lineno}: a patch id must be a workflows.patches constant "
            f"(or a literal), not {ast.unparse(node)}"
        )

    uses, seen = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in PATCH_CALLS:
                arg = node.args[0] if node.args else next(k.value for k in node.keywords if k.arg == "id")
                uses.append((node.lineno, resolve(arg)))
                seen.add(id(arg))
    for node in ast.walk(tree):  # patches.NAME read outside a call, e.g. kept in a variable first
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "patches"
            and id(node) not in seen
            and node.attr in _constants()
        ):
            uses.append((node.lineno, resolve(node)))
    return uses


def all_uses() -> list[tuple[str, int, str]]:
    return [
        (path.name, line, pid)
        for path in sorted(WORKFLOWS.glob("*.py"))
        if path.name != "patches.py"
        for line, pid in _uses(path)
    ]


def test_the_workflow_code_uses_patches():
    assert all_uses(), "no workflow.patched call found: has the scan stopped seeing them?"


def test_every_id_the_workflow_code_uses_is_registered():
    unknown = [f"{module}:{line} {pid!r}" for module, line, pid in all_uses() if pid not in patches.REGISTRY]
    assert not unknown, f"patch ids missing from workflows/patches.py: {unknown}"


def test_every_registered_id_is_used():
    used = {pid for _, _, pid in all_uses()}
    assert set(patches.REGISTRY) - used == set(), "registered ids no workflow calls (retired? remove them)"


def test_registry_constants_match_their_entries():
    assert sorted(_constants().values()) == sorted(patches.REGISTRY)
    assert patches.ALL == tuple(patches.REGISTRY)
    for pid, patch in patches.REGISTRY.items():
        assert patch.id == pid


@pytest.mark.parametrize("pid", list(patches.REGISTRY))
def test_each_entry_is_documented(pid):
    patch = patches.REGISTRY[pid]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", pid), "ids are short kebab-case names"
    assert re.fullmatch(r"[0-9a-f]{7,40}", patch.introduced_in)
    assert patch.changed and patch.removable_when
    assert patch.new_path, "the new path needs a replay fixture (tests/replay)"
    if patch.deprecated_in is None:
        assert patch.old_path, "the old path needs a replay fixture while the patch is not deprecated"
    else:  # deprecate_patch() has dropped the old path: its fixtures no longer replay (histories/retired/)
        assert not patch.old_path and re.fullmatch(r"[0-9a-f]{7,40}", patch.deprecated_in)
    histories = Path(__file__).parents[1] / "replay" / "histories"
    missing = [f for f in patch.old_path + patch.new_path if not (histories / f"{f}.json").exists()]
    assert not missing, f"fixtures named for {pid} do not exist: {missing}"


def test_the_guide_documents_every_id():
    guide = (Path(__file__).parents[2] / "docs" / "changing-workflow-code.md").read_text(encoding="utf-8")
    for pid, patch in patches.REGISTRY.items():
        row = next((line for line in guide.splitlines() if line.startswith(f"| `{pid}`")), None)
        assert row is not None, f"docs/changing-workflow-code.md has no registry row for {pid}"
        assert patch.introduced_in in row


def test_the_scan_sees_every_way_of_naming_an_id(tmp_path):
    constant = next(iter(_constants()))
    module = tmp_path / "m.py"
    module.write_text(
        "from temporalio import workflow\n"
        "from workflows import patches\n"
        f"from workflows.patches import {constant} as P\n"
        f"a = workflow.patched(patches.{constant})\n"
        "b = workflow.patched('made-up-id')\n"
        "workflow.deprecate_patch(P)\n"
        f"c = patches.{constant}\n"
    )
    found = sorted(pid for _, pid in _uses(module))
    value = _constants()[constant]
    assert found == sorted([value, "made-up-id", value, value])
    module.write_text("from temporalio import workflow\nx = 'a'\nworkflow.patched(x)\n")
    with pytest.raises(AssertionError, match="must be a workflows.patches constant"):
        _uses(module)
