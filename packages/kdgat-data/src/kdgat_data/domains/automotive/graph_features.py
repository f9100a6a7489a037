"""Names and version of the window-graph features (DESIGN.md §2). Bump the version on any change."""

FEATURE_VERSION = "can-v1"

NODE_FEATURES = (
    "id_index",  # vocabulary index of the CAN ID (embedded by the models; stored as node_id)
    *(f"byte_{k}_mean" for k in range(8)),  # mean payload byte / 255 over the node's frames
    "occurrence_count",  # frames of this ID, min-max scaled across the window's nodes (0 if all equal)
    "last_position",  # position of the ID's last frame / (W - 1)
)
CONTINUOUS_NODE_FEATURES = NODE_FEATURES[1:]

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
