"""The internet domain: network flows -> windows of W flows (or T seconds) -> host graphs.

Node = host seen in the window (no fixed vocabulary: every node has entity index 0, the models
run with ``id_embedding_dim=0``; a role feature says whether the host's address is private).
Directed edge = the flows from one host to another in the window, aggregated. All counts enter as
``log1p(v) / (1 + log1p(v))`` so features lie in [0, 1) with no fitted scale.

Node features: flows out, flows in, bytes sent, bytes received, out-degree, in-degree, distinct
destination ports contacted, share of its outgoing flows that failed, private address (0/1).
Edge features: flows, bytes, packets, mean duration, distinct destination ports, share TCP / UDP /
ICMP, share failed, reverse edge exists. Window label: any malicious flow; node label: the host
took part in one.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import numpy as np
from kdgat_schemas import DOMAIN_HAS_VOCABULARY

from kdgat_data.domains.base import FittedDomain, register_adapter
from kdgat_data.domains.internet.flow_readers import FlowOptions, flow_format, read_flows
from kdgat_data.domains.internet.flows import FlowTable
from kdgat_data.graph_arrays import GraphArrays

FEATURE_VERSION = "flows-v1"
NODE_FEATURES = ("entity_index", "flows_out", "flows_in", "bytes_sent", "bytes_received", "out_degree", "in_degree",
                 "distinct_ports", "failed_share", "private_address")
EDGE_FEATURES = ("flows", "bytes", "packets", "duration_mean", "distinct_ports", "tcp_share", "udp_share", "icmp_share",
                 "failed_share", "reverse_exists")


def _squash(count: np.ndarray) -> np.ndarray:
    logged = np.log1p(np.maximum(count, 0))
    return logged / (1 + logged)


def private_hosts(hosts: tuple[str, ...]) -> np.ndarray:
    """(H,) 1 where the address is private (RFC 1918, link-local, loopback), 0 otherwise or unparsable."""
    flags = np.zeros(len(hosts), np.float32)
    for index, host in enumerate(hosts):
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            continue
        flags[index] = float(address.is_private)
    return flags


def window_ranges(timestamp: np.ndarray, window: int, stride: int, window_seconds: float | None = None,
                  stride_seconds: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(first, stop)`` flow indices of each window: W flows every S flows, or T seconds every S seconds."""
    n = len(timestamp)
    if window_seconds:
        starts = np.arange(timestamp[0], timestamp[-1] + 1e-9, stride_seconds or window_seconds) if n else np.zeros(0)
        first = np.searchsorted(timestamp, starts, "left")
        stop = np.searchsorted(timestamp, starts + window_seconds, "left")
        keep = stop > first
        return first[keep].astype(np.int64), stop[keep].astype(np.int64)
    first = np.arange(0, n - window + 1, stride, dtype=np.int64) if n >= window else np.zeros(0, np.int64)
    return first, first + window


def flow_graphs(table: FlowTable, attack_codes: np.ndarray, first: np.ndarray, stop: np.ndarray, source: int) -> GraphArrays:
    """Host graphs of the windows ``[first[g], stop[g])`` (vectorised over all windows at once)."""
    lengths = stop - first
    g, total, h = len(first), int(lengths.sum()), max(len(table.hosts), 1)
    window_of = np.repeat(np.arange(g, dtype=np.int64), lengths)
    flow = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(first, lengths)
    src_key = window_of * h + table.src[flow]
    dst_key = window_of * h + table.dst[flow]
    node_keys, inverse = np.unique(np.concatenate([src_key, dst_key]), return_inverse=True)
    src_node, dst_node = inverse[:total], inverse[total:]
    n = len(node_keys)
    node_window, node_host = node_keys // h, node_keys % h
    node_ptr = np.searchsorted(node_window, np.arange(g + 1)).astype(np.int64)
    edge_keys, edge_of = np.unique(src_node * n + dst_node, return_inverse=True)
    e_src, e_dst = edge_keys // n, edge_keys % n
    edge_ptr = np.searchsorted(node_window[e_src], np.arange(g + 1)).astype(np.int64)
    m = len(edge_keys)

    def per_edge(weights=None):
        return np.bincount(edge_of, weights, minlength=m).astype(np.float64)

    flows = per_edge()
    port = table.dst_port[flow].astype(np.int64)
    distinct_edge_ports = np.bincount(np.unique(edge_of * 65_537 + port + 1) // 65_537, minlength=m)
    proto = table.proto[flow]
    edge_attr = np.stack([
        _squash(flows), _squash(per_edge((table.bytes_out + table.bytes_in)[flow])),
        _squash(per_edge((table.packets_out + table.packets_in)[flow])), _squash(per_edge(table.duration[flow]) / flows),
        _squash(distinct_edge_ports), per_edge(proto == 0) / flows, per_edge(proto == 1) / flows, per_edge(proto == 2) / flows,
        per_edge(table.failed[flow]) / flows, np.isin(e_dst * n + e_src, edge_keys).astype(np.float64),
    ], axis=-1).astype(np.float32)

    def per_node(index, weights=None):
        return np.bincount(index, weights, minlength=n).astype(np.float64)

    flows_out = per_node(src_node)
    node_ports = np.bincount(np.unique(src_node * 65_537 + port + 1) // 65_537, minlength=n)
    x = np.stack([
        _squash(flows_out), _squash(per_node(dst_node)),
        _squash(per_node(src_node, table.bytes_out[flow]) + per_node(dst_node, table.bytes_in[flow])),
        _squash(per_node(src_node, table.bytes_in[flow]) + per_node(dst_node, table.bytes_out[flow])),
        _squash(per_node(e_src)), _squash(per_node(e_dst)), _squash(node_ports),
        per_node(src_node, table.failed[flow]) / np.maximum(flows_out, 1), private_hosts(table.hosts)[node_host],
    ], axis=-1).astype(np.float32)

    label = table.label[flow].astype(np.float64)
    node_y = ((per_node(src_node, label) + per_node(dst_node, label)) > 0).astype(np.uint8)
    y = (np.bincount(window_of, label, minlength=g) > 0).astype(np.uint8)
    kinds = int(attack_codes.max()) + 1 if len(attack_codes) else 1
    counts = np.bincount(window_of * kinds + attack_codes[flow], label, minlength=g * kinds).reshape(g, kinds)
    counts[:, 0] = 0
    attack_type = np.where(y == 1, counts.argmax(-1), 0).astype(np.int16)
    local = lambda index, ptr, owner: (index - ptr[owner]).astype(np.int32)  # noqa: E731
    edge_index = np.stack([local(e_src, node_ptr, node_window[e_src]), local(e_dst, node_ptr, node_window[e_dst])])
    return GraphArrays(
        x=x, node_id=np.zeros(n, np.int32), node_y=node_y, edge_index=edge_index, edge_attr=edge_attr,
        node_ptr=node_ptr, edge_ptr=edge_ptr, y=y, attack_type=attack_type, source=np.full(g, source, np.int32),
        window_start=first, window_stop=stop, start_time=table.timestamp[first] if g else np.zeros(0),
        end_time=table.timestamp[stop - 1] if g else np.zeros(0),
    )


FLOW_STATISTICS = ("flows", "hosts", "host_pairs", "distinct_ports", "max_fan_out", "port_entropy",
                   "log_bytes_mean", "log_bytes_std", "log_packets_mean", "log_packets_std", "log_duration_mean",
                   "log_duration_std", "tcp_share", "udp_share", "icmp_share", "failed_share", "log_span_s")


def flow_window_statistics(table: FlowTable, arrays: GraphArrays) -> tuple[np.ndarray, tuple[str, ...]]:
    """(G, F) statistics of each window's flows: counts, hosts, ports and fan-out, byte / packet /
    duration statistics, protocol and failed shares (vectorised over all windows)."""
    from kdgat_data.window_statistics import range_means, range_stds

    first, stop = np.asarray(arrays.window_start, np.int64), np.asarray(arrays.window_stop, np.int64)
    g = len(first)
    if not g:
        return np.zeros((0, len(FLOW_STATISTICS)), np.float32), FLOW_STATISTICS
    lengths = stop - first
    window_of = np.repeat(np.arange(g, dtype=np.int64), lengths)
    flow = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(first, lengths)
    h = max(len(table.hosts), 1)
    port = table.dst_port[flow].astype(np.int64) + 1  # -1 (unknown) -> 0
    window_ports = np.unique(window_of * 65_537 + port)
    distinct_ports = np.bincount(window_ports // 65_537, minlength=g)
    pairs = np.unique((window_of * h + table.src[flow]) * h + table.dst[flow])
    sources, destinations = np.unique(pairs // h, return_counts=True)  # distinct destinations per (window, source)
    fan_out = np.zeros(g)
    np.maximum.at(fan_out, sources // h, destinations)
    port_counts_keys, port_counts = np.unique(window_of * 65_537 + port, return_counts=True)
    owner = port_counts_keys // 65_537
    share = port_counts / lengths[owner]
    entropy = np.bincount(owner, -share * np.log(share), minlength=g)
    total_bytes = np.log1p(table.bytes_out + table.bytes_in).astype(np.float64)
    packets = np.log1p(table.packets_out + table.packets_in).astype(np.float64)
    duration = np.log1p(np.maximum(table.duration, 0)).astype(np.float64)
    proto = np.asarray(table.proto)
    stats = np.column_stack([
        lengths.astype(np.float64), np.diff(np.asarray(arrays.node_ptr)), np.bincount(pairs // (h * h), minlength=g),
        distinct_ports, fan_out, entropy,
        range_means(total_bytes, first, stop), range_stds(total_bytes, first, stop),
        range_means(packets, first, stop), range_stds(packets, first, stop),
        range_means(duration, first, stop), range_stds(duration, first, stop),
        range_means(proto == 0, first, stop), range_means(proto == 1, first, stop), range_means(proto == 2, first, stop),
        range_means(table.failed, first, stop), np.log1p(np.maximum(arrays.end_time - arrays.start_time, 0)),
    ])
    return stats.astype(np.float32), FLOW_STATISTICS


class InternetAdapter:
    domain = "internet"
    feature_version = FEATURE_VERSION
    node_features = NODE_FEATURES
    edge_features = EDGE_FEATURES
    has_vocabulary = DOMAIN_HAS_VOCABULARY["internet"]  # False: hosts have no fixed vocabulary
    record_words = ("flows", "hosts")

    def reader_options(self, entry, on_bad_row, root: Path | None = None) -> FlowOptions:
        """The entry's ``flows`` labels and time windows."""
        from kdgat_data.catalog import FlowSettings

        f = entry.flows or FlowSettings()
        return FlowOptions(tuple(f.normal_values), tuple(f.attack_values), tuple(f.background_values), f.background,
                           on_bad_row, f.window_seconds, f.stride_seconds)

    def generate_synthetic(self, root: Path, spec) -> None:
        """``spec.frames`` flows of synthetic hosts (`synthetic_flows`)."""
        from kdgat_data.domains.internet.synthetic_flows import FLOW_ATTACKS, generate_flow_dataset

        generate_flow_dataset(root, flows=spec.frames, seed=spec.seed, attacks=spec.attacks or list(FLOW_ATTACKS),
                              overwrite=True)

    def accepts(self, path: Path) -> bool:
        return flow_format(path) is not None

    def read(self, path: Path, options: FlowOptions) -> tuple[FlowTable, object]:
        return read_flows(path, options)

    def fit(self, training_heads: list[FlowTable], options: FlowOptions | None = None) -> FittedDomain:
        """Nothing to learn (hosts have no fixed vocabulary, features need no scale); keeps the time windows."""
        options = options or FlowOptions()
        return FittedDomain(state={"window_seconds": options.window_seconds, "stride_seconds": options.stride_seconds})

    def window_statistics(self, table: FlowTable, fitted: FittedDomain, arrays: GraphArrays):
        return flow_window_statistics(table, arrays)

    def graphs(self, table: FlowTable, fitted: FittedDomain, attack_codes: np.ndarray, window: int, stride: int,
               source: int) -> GraphArrays:
        first, stop = window_ranges(table.timestamp, window, stride, fitted.state.get("window_seconds"),
                                    fitted.state.get("stride_seconds"))
        return flow_graphs(table, attack_codes, first, stop, source)


ADAPTER = register_adapter(InternetAdapter())
