"""Column-mapped captures: a `ColumnMapping` names which column holds what.

Covers ROAD (``Time,Id,Byte1..Byte8,Label`` with ``Benign`` = normal), whitespace-separated traces
without a header (CrySyS: ``time  id  unused  dlc  b0 .. b7``) and any user CSV registered in the
dataset catalog.
"""

from __future__ import annotations

from pathlib import Path

from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.automotive.readers import columns
from kdgat_data.domains.automotive.readers.column_mapping import WHITESPACE, ColumnMapping, ColumnRef
from kdgat_data.readers._polars import pl
from kdgat_data.readers.errors import BadRows, DataFormatError, OnBadRow, ReadReport
from kdgat_data.readers.text import read_header_csv, read_lines, split_fields

FORMAT = "column_mapped"


def read_column_mapped(
    path: str | Path, mapping: ColumnMapping, *, on_bad_row: OnBadRow = OnBadRow.ERROR, attack_type: str = "attack"
) -> tuple[FrameTable, ReadReport]:
    path = Path(path)
    get, n_rows, line_numbers = _column_getter(path, mapping)
    bad = BadRows(str(path), line_numbers)
    timestamp = columns.timestamps(get(mapping.timestamp), bad, _name(mapping.timestamp))
    can_id = columns.hex_ids(get(mapping.id), bad, _name(mapping.id))
    dlc = columns.dlc_values(get(mapping.dlc), bad, _name(mapping.dlc), mapping.dlc_unit) if mapping.dlc is not None else None
    if mapping.payload is not None:
        payload, parsed_dlc = columns.hex_payload(get(mapping.payload), bad, _name(mapping.payload))
        dlc = parsed_dlc if dlc is None else dlc
    else:
        payload, dlc = columns.hex_byte_columns(
            [get(ref) for ref in mapping.bytes], bad, [_name(ref) for ref in mapping.bytes], dlc=dlc
        )
    label = names = None
    names_open = "normal_values" in mapping.model_fields_set
    if mapping.label is not None:
        label, names = columns.labels(
            get(mapping.label), bad, _name(mapping.label), mapping.normal_values, mapping.attack_values,
            attack_names_open=names_open,
        )
    keep, skipped = bad.resolve(on_bad_row)
    table = FrameTable.build(
        timestamp=timestamp[keep], can_id=can_id[keep], dlc=dlc[keep], payload=payload[keep],
        label=None if label is None else label[keep],
        attack_names=None if names is None or _binary(mapping) or not names_open else names[keep],
        attack_type=attack_type, source=str(path),
    )
    return table, ReadReport(str(path), FORMAT, n_rows, skipped, lines=line_numbers[keep])


BOOLEAN_WORDS = {"true", "false", "t", "f", "yes", "no", "y", "n"}


def _binary(mapping: ColumnMapping) -> bool:
    """Labels like 0/1 or True/False (an ``ANOMALY`` flag) carry no attack-type name: the name then
    comes from the file or its scenario folder, never "true"."""
    def flag(value: str) -> bool:
        return value.strip().isdigit() or value.strip().lower() in BOOLEAN_WORDS

    return all(flag(v) for v in mapping.normal_values) and (mapping.attack_values is None or all(map(flag, mapping.attack_values)))


def _name(ref: ColumnRef) -> str:
    return ref if isinstance(ref, str) else f"column {ref}"


def _column_getter(path: Path, mapping: ColumnMapping):
    """``(get(ref) -> pl.Series, n_rows, line_numbers)`` for the file's layout."""
    refs = [mapping.timestamp, mapping.id, mapping.payload, mapping.dlc, mapping.label, *(mapping.bytes or [])]
    refs = [r for r in refs if r is not None]
    if mapping.header and mapping.separator != WHITESPACE:
        frame, line_numbers = read_header_csv(path, separator=mapping.separator)
        missing = [r for r in refs if isinstance(r, str) and r not in frame.columns]
        if missing:
            raise DataFormatError(
                path, f"missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}", line=1
            )
        if frame.height == 0:
            raise DataFormatError(path, "no frames after the header line")
        return (lambda ref: frame[ref] if isinstance(ref, str) else frame.to_series(ref)), frame.height, line_numbers
    lines, line_numbers = read_lines(path)
    header: list[str] = []
    if mapping.header:
        header = split_fields(lines[:1], None).to_list()[0]
        lines, line_numbers = lines[1:], line_numbers[1:]
        missing = [r for r in refs if isinstance(r, str) and r not in header]
        if missing:
            raise DataFormatError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(header)}", line=1)
    if lines.len() == 0:
        raise DataFormatError(path, "no frames in the file")
    separator = None if mapping.separator == WHITESPACE else mapping.separator
    fields = split_fields(lines, separator)

    def get(ref: ColumnRef) -> pl.Series:
        index = header.index(ref) if isinstance(ref, str) else ref
        return fields.list.get(index, null_on_oob=True)

    return get, lines.len(), line_numbers
