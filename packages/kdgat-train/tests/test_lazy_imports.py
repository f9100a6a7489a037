"""kdgat-train imports at file heads. The only imports inside functions are the lazy ones that keep
torch, Lightning, Hydra and MLflow off a command's start-up path (``kdgat-train --help`` and
``--cfg job``, ``kdgat-runs list``, ``kdgat-detect --help``) or off the trainer (MLflow), and they sit
in the modules listed here, each with its reason (docs/design.md, "Imports")."""

import ast
from pathlib import Path

import kdgat_train

SOURCE = Path(kdgat_train.__file__).parent
MOST = 50

LAZY_IMPORT_MODULES = {
    "cli.py": "Hydra, hydra-zen and the training stack after the command line is checked",
    "task.py": "the training half of the Hydra task (torch, Lightning, PyG) after the config is valid",
    "runs_cli.py": "kdgat-runs' commands that train or score (runs_commands), Hydra for check-jobs",
    "deployment/detect_cli.py": "the detector (torch or onnxruntime) once the options are parsed",
    "deployment/detection_run.py": "python-can, only for a live bus",
    "deployment/frame_sources.py": "python-can, only for a live bus",
    "families/model_family.py": "families are read by config parsing; their stage building is torch",
    "families/gat_family.py": "as model_family.py",
    "families/vgae_family.py": "as model_family.py",
    "families/mlp_family.py": "as model_family.py",
    "families/dqn_fusion_family.py": "as model_family.py",
    "evaluation/threshold_rule.py": "a rule is parsed by config validation; choosing a threshold uses torchmetrics",
    "tracking.py": "MLflow, imported by the tracking helper, never by the trainer",
    "tracking_database.py": "MLflow, as tracking.py",
    "tracking_service.py": "MLflow, in the helper process at its start",
    "pipeline/local_executor.py": "Lightning and PyG in a worker, under the known-warnings filter",
    "figures.py": "matplotlib, on the first figure only",
}


def in_function_imports() -> dict[str, list[int]]:
    """``{module path: [line of each import statement inside a function]}`` of kdgat-train's source."""
    found: dict[str, list[int]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        lines = {node.lineno for function in ast.walk(ast.parse(path.read_text()))
                 if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
                 for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)}
        if lines:
            found[path.relative_to(SOURCE).as_posix()] = sorted(lines)
    return found


def test_imports_inside_functions_are_few_and_only_where_a_start_up_path_needs_them():
    found = in_function_imports()
    elsewhere = {module: lines for module, lines in found.items() if module not in LAZY_IMPORT_MODULES}
    assert not elsewhere, f"imports inside functions outside the listed lazy-import modules (move them to the file head): {elsewhere}"
    total = sum(len(lines) for lines in found.values())
    assert total <= MOST, f"{total} imports inside functions (at most {MOST}): {found}"


def test_the_count_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    (tmp_path / "planted.py").write_text("import os\n\n\ndef f():\n    import json\n    return json\n")
    monkeypatch.setattr(f"{__name__}.SOURCE", tmp_path)
    assert in_function_imports() == {"planted.py": [5]}
