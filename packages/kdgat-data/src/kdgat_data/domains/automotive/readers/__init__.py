"""Readers of CAN captures; each returns a `FrameTable` and a `ReadReport` (`dispatch.read_frames`
detects the format). Kept light: the catalog imports `column_mapping` and `file_reader` alone."""
