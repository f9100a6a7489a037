"""The network-flow domain: Zeek conn logs and flow CSVs -> windows of flows -> host graphs.

`flows` (the `FlowTable`), `flow_readers`, `synthetic_flows` and the `adapter`.
"""
