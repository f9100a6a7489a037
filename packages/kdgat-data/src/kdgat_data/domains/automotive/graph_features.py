"""Names and versions of the window-graph feature sets (DESIGN.md §2). Bump a version on any change.

Two sets (``dataset_config.features``):
- ``anchor`` (``can-v1``): the published system's 10 continuous node features, for results that
  compare with it;
- ``dynamics`` (``can-v2``): the anchor's features plus per-ID timing and payload dynamics relative
  to each ID's training behaviour (`node_dynamics.DYNAMICS_NODE_FEATURES`, issue 13).
Both have the same edges.
"""

from kdgat_data.domains.automotive.node_dynamics import DYNAMICS_NODE_FEATURES

FEATURE_VERSION = "can-v1"
DYNAMICS_FEATURE_VERSION = "can-v2"

NODE_FEATURES = (
    "id_index",  # vocabulary index of the CAN ID (embedded by the models; stored as node_id)
    *(f"byte_{k}_mean" for k in range(8)),  # mean payload byte / 255 over the node's frames
    "occurrence_count",  # frames of this ID, min-max scaled across the window's nodes (0 if all equal)
    "last_position",  # position of the ID's last frame / (W - 1)
)
CONTINUOUS_NODE_FEATURES = NODE_FEATURES[1:]
DYNAMICS_FEATURES = (*NODE_FEATURES, *DYNAMICS_NODE_FEATURES)

EDGE_FEATURES = (
    "count",  # transitions src -> dst in the window
    "frequency",  # count / W
    "gap_mean",  # mean gap (in transitions) between consecutive occurrences; 0 if count == 1
    "gap_std",  # population std of those gaps; 0 if count == 1
    "regularity",  # 1 / (1 + gap_std) if count >= 2, else 0
    "first_position",  # position of the first transition / W
    "last_position",  # position of the last transition / W
    "span",  # (last - first) / W
    "reverse_exists",  # 1 if dst -> src is also an edge of the window
    "degree_product",  # deg(src) * deg(dst), deg = transitions touching the node (with multiplicity)
    "degree_ratio",  # deg(src) / deg(dst)
)
