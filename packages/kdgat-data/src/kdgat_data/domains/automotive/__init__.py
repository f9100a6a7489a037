"""The CAN bus domain (DESIGN.md §2): frames -> windows of W frames -> graphs of CAN IDs.

- `frames`: the `FrameTable` every CAN reader produces;
- `readers/`: can-train-and-test, HCRL Car-Hacking, column-mapped (ROAD, CrySyS), candump and
  python-can logs, with format detection (`readers.dispatch.read_frames`);
- `window_graphs`, `graph_features`, `node_sums`: the vectorised window -> graph builder
  (`reference_graphs`: a plain per-window version the tests and benchmark compare against);
- `synthetic/`: the seeded vehicle, bus arbitration and the standard attacks;
- `adapter`: the `DomainAdapter` that ties them together.

Kept light (no imports): the dataset catalog reads `readers.column_mapping` without numpy.
"""
