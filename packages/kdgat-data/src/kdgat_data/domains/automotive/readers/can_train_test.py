"""can-train-and-test CSV: ``timestamp,arbitration_id,data_field,attack`` (hcrl_ch, hcrl_sa, set_01..04).

``arbitration_id`` is hex, ``data_field`` a hex string of 0-8 bytes (DLC = length / 2) and
``attack`` is 0 or 1.
"""

from __future__ import annotations

from pathlib import Path

from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.automotive.readers import columns
from kdgat_data.readers.errors import BadRows, DataFormatError, OnBadRow, ReadReport
from kdgat_data.readers.text import read_header_csv

FORMAT = "can_train_test"
HEADER = ("timestamp", "arbitration_id", "data_field", "attack")


def read_can_train_test(
    path: str | Path, *, on_bad_row: OnBadRow = OnBadRow.ERROR, attack_type: str = "attack"
) -> tuple[FrameTable, ReadReport]:
    """Read one can-train-and-test CSV.

    Args:
        attack_type: the attack-type name given to rows with ``attack == 1``.
    """
    path = Path(path)
    frame, line_numbers = read_header_csv(path)
    missing = [name for name in HEADER if name not in frame.columns]
    if missing:
        raise DataFormatError(
            path, f"missing column(s) {', '.join(missing)}; expected header {','.join(HEADER)}, "
            f"found {','.join(frame.columns)}", line=1,
        )
    if frame.height == 0:
        raise DataFormatError(path, "no frames after the header line")
    bad = BadRows(str(path), line_numbers)
    timestamp = columns.timestamps(frame["timestamp"], bad, "timestamp")
    can_id = columns.hex_ids(frame["arbitration_id"], bad, "arbitration_id")
    payload, dlc = columns.hex_payload(frame["data_field"], bad, "data_field")
    label, _ = columns.labels(frame["attack"], bad, "attack", ["0"], ["1"])
    keep, skipped = bad.resolve(on_bad_row)
    table = FrameTable.build(
        timestamp=timestamp[keep], can_id=can_id[keep], dlc=dlc[keep], payload=payload[keep],
        label=label[keep], attack_type=attack_type, source=str(path),
    )
    return table, ReadReport(str(path), FORMAT, frame.height, skipped, lines=line_numbers[keep])
