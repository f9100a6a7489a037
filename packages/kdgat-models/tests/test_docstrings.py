import re

import pytest
from kdgat_models import (
    DQNFusionAgent,
    GATWithJK,
    GraphAutoencoderNeighborhood,
    MLPFusion,
    QNetwork,
    VGAEDistillationLoss,
)
from kdgat_models.fusion import ReplayBuffer


@pytest.mark.parametrize(
    "cls", [GATWithJK, GraphAutoencoderNeighborhood, QNetwork, MLPFusion, DQNFusionAgent, VGAEDistillationLoss, ReplayBuffer]
)
def test_class_docstring_has_reference_args_and_shapes(cls):
    doc = cls.__doc__ or ""
    assert re.search(r"(19|20)\d\d", doc), f"{cls.__name__}: no paper reference"
    assert "Args:" in doc and "Shapes:" in doc
