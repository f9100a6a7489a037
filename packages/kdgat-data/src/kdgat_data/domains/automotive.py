"""The CAN bus domain: frames -> windows of W frames -> graphs of CAN IDs (DESIGN.md §2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kdgat_data.domains.base import FittedDomain, register_adapter
from kdgat_data.frames import FrameTable
from kdgat_data.graphs import EDGE_FEATURES, FEATURE_VERSION, NODE_FEATURES, GraphArrays, build_window_graphs
from kdgat_data.readers import ReaderOptions, read_frames
from kdgat_data.vocabulary import Vocabulary


class AutomotiveAdapter:
    """CAN frames (any reader of `kdgat_data.readers`); node = CAN ID, vocabulary from training IDs."""

    domain = "automotive"
    feature_version = FEATURE_VERSION
    node_features = NODE_FEATURES
    edge_features = EDGE_FEATURES

    def read(self, path: Path, options: ReaderOptions):
        return read_frames(path, options)

    def fit(self, training_heads: list[FrameTable], options=None) -> FittedDomain:
        return FittedDomain(vocabulary=Vocabulary.from_training(head.can_id for head in training_heads).to_list())

    def graphs(self, table: FrameTable, fitted: FittedDomain, attack_codes: np.ndarray, window: int, stride: int,
               source: int) -> GraphArrays:
        vocabulary = Vocabulary(fitted.vocabulary)
        return build_window_graphs(table.can_id, table.payload, table.label, attack_codes, vocabulary.encode(table.can_id),
                                   window=window, stride=stride, source=source, timestamp=table.timestamp)


ADAPTER = register_adapter(AutomotiveAdapter())
__all__ = ["ADAPTER", "AutomotiveAdapter"]
