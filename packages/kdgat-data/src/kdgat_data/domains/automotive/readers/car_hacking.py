"""HCRL Car-Hacking CSV: ``Timestamp, CAN ID, DLC, DATA0..DATA[DLC-1], Flag``.

The Flag (``R`` normal, ``T`` injected) sits right after the last data byte, so rows with a DLC
below 8 have fewer columns. The published files have no header line; one is tolerated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.automotive.readers import columns
from kdgat_data.readers._polars import pl
from kdgat_data.readers.errors import BadRows, DataFormatError, OnBadRow, ReadReport
from kdgat_data.readers.text import read_lines, split_fields

FORMAT = "car_hacking"


def read_car_hacking(
    path: str | Path, *, on_bad_row: OnBadRow = OnBadRow.ERROR, attack_type: str = "attack"
) -> tuple[FrameTable, ReadReport]:
    path = Path(path)
    lines, line_numbers = read_lines(path)
    if lines.len() and lines[0].lower().replace(" ", "").startswith("timestamp,canid"):
        lines, line_numbers = lines[1:], line_numbers[1:]
    if lines.len() == 0:
        raise DataFormatError(path, "no frames in the file")
    fields = split_fields(lines, ",")
    n_fields = fields.list.len().to_numpy()
    bad = BadRows(str(path), line_numbers)
    get = lambda i: fields.list.get(i, null_on_oob=True)  # noqa: E731
    timestamp = columns.timestamps(get(0), bad, "Timestamp")
    can_id = columns.hex_ids(get(1), bad, "CAN ID")
    dlc = columns.dlc_values(get(2), bad, "DLC")
    bad.add(
        n_fields != dlc + 4,
        lambda r: f"expected {int(dlc[r]) + 4} comma-separated fields for DLC {int(dlc[r])} "
        f"(Timestamp, CAN ID, DLC, {int(dlc[r])} data bytes, Flag), got {int(n_fields[r])}",
    )
    byte_series = [get(3 + k) for k in range(8)]
    payload, dlc = columns.hex_byte_columns(byte_series, bad, [f"DATA{k}" for k in range(8)], dlc=dlc)
    flag = pl.DataFrame({"f": fields, "i": (3 + dlc).astype(np.int64)}).select(
        pl.col("f").list.get(pl.col("i"), null_on_oob=True)
    ).to_series()
    label, _ = columns.labels(flag, bad, "Flag", ["R"], ["T"])
    keep, skipped = bad.resolve(on_bad_row)
    table = FrameTable.build(
        timestamp=timestamp[keep], can_id=can_id[keep], dlc=dlc[keep], payload=payload[keep],
        label=label[keep], attack_type=attack_type, source=str(path),
    )
    return table, ReadReport(str(path), FORMAT, lines.len(), skipped, lines=line_numbers[keep])
