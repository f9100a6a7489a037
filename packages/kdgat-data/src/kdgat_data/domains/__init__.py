"""Domain adapters: how one domain's records become window graphs (records -> windows -> graphs).

Models and training never branch on the domain: every adapter produces the same `GraphArrays`
(node features, entity index, edges with features, window labels), and a new domain is one
module here plus one catalog entry.
"""

from kdgat_data.domains.base import DomainAdapter, FittedDomain, RecordTable, adapter_for, register_adapter

__all__ = ["DomainAdapter", "FittedDomain", "RecordTable", "adapter_for", "register_adapter"]
