"""The family registry: every grammar model has one family object, the tables derive from it, and no
module outside `kdgat_train.families` compares against a family token."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from kdgat_schemas import MODES, ExperimentName
from kdgat_train.config.field_use import field_users, unused_fields
from kdgat_train.config.preset_names import stage_variants
from kdgat_train.families import FAMILIES, GRAPH_FIELDS, ModelFamily, family_of, register_family
from kdgat_train.families.gat_family import GATFamily

SOURCE = Path(__file__).resolve().parents[2] / "src" / "kdgat_train"
TOKENS = set(MODES)


def test_every_grammar_model_has_one_family():
    assert set(FAMILIES) == TOKENS
    for token, family in FAMILIES.items():
        assert family_of(token) is family and family.token == token
        assert family.modes == MODES[token] and family.label
        family.size_settings()  # the defaults validate
    assert family_of(ExperimentName.parse("automotive_synthetic_supervised_gat_student_no_all_samples")).label == "GAT"
    with pytest.raises(KeyError, match="no model family 'cnn'"):
        family_of("cnn")


def test_presets_and_field_use_derive_from_the_families():
    assert stage_variants() == [(f.learning, f.token, mode) for f in FAMILIES.values() for mode in f.modes]
    users, labels = field_users()
    for family in FAMILIES.values():
        for field in family.own_fields:  # the graph-less MLP trains like the GAT: it shares the GAT's fields
            assert family.token in users[field] and len(users[field]) == (2 if field in GATFamily.own_fields else 1)
        for field in family.distillation_fields:
            assert f"kd_{family.token}" in users[field]
        assert labels[family.token] == family.label
    fusion = ExperimentName.parse("automotive_synthetic_fusion_dqn_student_no_all_samples")
    assert set(GRAPH_FIELDS) <= set(unused_fields(fusion))  # the DQN reads no window graphs


def test_a_family_declares_its_trainer_arguments():
    from kdgat_train.config.settings import DeviceSettings

    class Settings:
        device = DeviceSettings(accelerator="cpu", devices=2, num_nodes=1, precision="32-true")

        class training_config:  # noqa: N801 (stands for TrainingSettings)
            gradient_clip = 1.5

    assert family_of("gat").trainer_arguments(Settings) == {"devices": 2, "num_nodes": 1, "gradient_clip_val": 1.5}
    assert family_of("dqn").trainer_arguments(Settings) == {"devices": 1, "num_nodes": 1, "gradient_clip_val": None}


def test_a_second_family_under_a_taken_token_is_refused():
    class OtherGAT(ModelFamily):
        token, label = "gat", "other GAT"

    with pytest.raises(ValueError, match="already registered"):
        register_family(OtherGAT())
    assert register_family(GATFamily()) is not None and type(FAMILIES["gat"]) is GATFamily


def _token_comparisons(path: Path) -> list[str]:
    """``file:line`` of each comparison with, or subscript by, a family token literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        operands = [node.left, *node.comparators] if isinstance(node, ast.Compare) else \
            [node.slice] if isinstance(node, ast.Subscript) else []
        for operand in operands:
            values = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
            if any(isinstance(v, ast.Constant) and v.value in TOKENS for v in values):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_module_outside_the_families_tests_a_family_token():
    offenders = [hit for path in sorted(SOURCE.rglob("*.py")) if "families" not in path.parts
                 for hit in _token_comparisons(path)]
    assert offenders == []

def test_the_token_check_fires(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('if name.model == "dqn":\n    pass\nx = MODES["vgae"]\ny = family in ("gat", "vgae")\n')
    assert _token_comparisons(probe) == ["probe.py:1", "probe.py:3", "probe.py:4"]
