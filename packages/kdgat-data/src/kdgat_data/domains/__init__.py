"""Domains: how one domain's records become window graphs (records -> windows -> graphs).

Models and training never branch on the domain: every adapter produces the same `GraphArrays`
(node features, entity index, edges with features, window labels). A domain is one folder here,
``domains/<domain>/``, holding its records table, readers, graph builder, synthetic generator and
an ``adapter`` module that registers its `DomainAdapter`; plus one catalog entry per dataset.

The names below load on first use (PEP 562): the catalog imports light modules of the domain
folders (column mappings) without numpy.
"""

from kdgat_data.lazy_exports import lazy_exports

_EXPORTS = {name: "base" for name in ("DomainAdapter", "FittedDomain", "RecordTable", "adapter_for", "register_adapter")}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
