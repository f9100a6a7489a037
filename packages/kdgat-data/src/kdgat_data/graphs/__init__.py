"""Window graphs: features, the vectorised builder and the collated array store."""

from kdgat_data.graphs.arrays import GraphArrays
from kdgat_data.graphs.features import (
    CONTINUOUS_NODE_FEATURES,
    EDGE_FEATURES,
    FEATURE_VERSION,
    NODE_FEATURES,
)
from kdgat_data.graphs.window_graphs import build_window_graphs, window_starts

__all__ = [
    "CONTINUOUS_NODE_FEATURES",
    "EDGE_FEATURES",
    "FEATURE_VERSION",
    "NODE_FEATURES",
    "GraphArrays",
    "build_window_graphs",
    "window_starts",
]
