"""Vectorised parsing of text columns (polars Series) into frame-table arrays, with row checks.

Every function marks malformed rows in a `BadRows` collector instead of raising, so a reader can
either stop at the earliest bad line or skip all bad rows at once.
"""

from __future__ import annotations

import numpy as np

from kdgat_data.readers._polars import pl
from kdgat_data.readers.errors import BadRows

MAX_CAN_ID = 0x1FFFFFFF  # 29-bit extended identifier


def _quote(series: pl.Series, row: int) -> str:
    value = series[row]
    return "an empty field" if value is None else repr(value)


def timestamps(series: pl.Series, bad: BadRows, field: str) -> np.ndarray:
    """Seconds as float64; null, NaN, infinite, negative or non-numeric values are bad rows."""
    values = series.cast(pl.Float64, strict=False).to_numpy()
    finite = np.isfinite(values)
    bad.add(~finite, lambda r: f"{field}: expected a numeric timestamp, got {_quote(series, r)}")
    bad.add(finite & (values < 0), lambda r: f"{field}: expected a timestamp of 0 or more seconds, got {_quote(series, r)}")
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)


def hex_ids(series: pl.Series, bad: BadRows, field: str) -> np.ndarray:
    """Hexadecimal CAN IDs (``1E5``, ``0x1E5``, ``18FCF200``) as int64; anything else is a bad row."""
    text = series.str.strip_chars().str.strip_prefix("0x").str.strip_prefix("0X")
    values = text.str.to_integer(base=16, strict=False, dtype=pl.Int64)
    ids = values.fill_null(-1).to_numpy()
    bad.add(
        (ids < 0) | (ids > MAX_CAN_ID),
        lambda r: f"{field}: expected a hexadecimal CAN ID (at most 29 bits), got {_quote(series, r)}",
    )
    return np.clip(ids, 0, MAX_CAN_ID)


def hex_payload(series: pl.Series, bad: BadRows, field: str) -> tuple[np.ndarray, np.ndarray]:
    """One hex string of 0-8 bytes per row (``460196E001FE6701``) -> ``(payload (N, 8), dlc (N,))``.

    An empty field is a frame with DLC 0. Odd length, more than 16 hex digits or a non-hex
    character make the row bad.
    """
    text = series.fill_null("").str.strip_chars()
    length = text.str.len_bytes().to_numpy().astype(np.int64)
    value = text.str.to_integer(base=16, strict=False, dtype=pl.UInt64)
    invalid = value.is_null().to_numpy() & (length > 0)
    too_long = length > 16
    odd = (length % 2) == 1
    bad.add(
        invalid | too_long | odd,
        lambda r: f"{field}: expected 0 to 8 payload bytes as an even number of hex digits, got {_quote(series, r)}",
    )
    dlc = np.where(invalid | too_long | odd, 0, length // 2)
    raw = value.fill_null(0).to_numpy().astype(np.uint64)
    shifts = (8 * (dlc[:, None] - 1 - np.arange(8)[None, :])).clip(min=0).astype(np.uint64)
    payload = ((raw[:, None] >> shifts) & np.uint64(0xFF)).astype(np.uint8)
    payload[np.arange(8)[None, :] >= dlc[:, None]] = 0
    return payload, dlc.astype(np.uint8)


def hex_byte_columns(
    columns: list[pl.Series], bad: BadRows, fields: list[str], dlc: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One hex byte per column (``20``, ``B8``) -> ``(payload (N, 8), dlc (N,))``.

    With ``dlc`` given only the first ``dlc`` columns of a row must be present; without it the
    DLC is the number of leading non-empty columns.
    """
    if len(columns) > 8:
        raise ValueError(f"at most 8 byte columns, got {len(columns)}")
    n = len(columns[0]) if columns else 0
    payload = np.zeros((n, 8), np.uint8)
    present = np.zeros((n, 8), bool)
    for k, (series, field) in enumerate(zip(columns, fields, strict=True)):
        text = series.str.strip_chars()
        value = text.str.to_integer(base=16, strict=False, dtype=pl.Int64)
        is_present = text.is_not_null().to_numpy() & (text.str.len_bytes().fill_null(0).to_numpy() > 0)
        numbers = value.fill_null(-1).to_numpy()
        needed = is_present if dlc is None else (k < dlc)
        bad.add(
            needed & ((numbers < 0) | (numbers > 0xFF)),
            lambda r, s=series, f=field: f"{f}: expected one hex byte 00-FF, got {_quote(s, r)}",
        )
        payload[:, k] = np.clip(numbers, 0, 0xFF)
        present[:, k] = is_present
    if dlc is None:
        dlc = np.cumprod(present, axis=1).sum(axis=1)
    payload[np.arange(8)[None, :] >= np.asarray(dlc)[:, None]] = 0
    return payload, np.asarray(dlc, np.uint8)


def dlc_values(series: pl.Series, bad: BadRows, field: str, unit: str = "bytes") -> np.ndarray:
    """A decimal DLC column -> bytes 0..8. ``unit="bits"``: the column counts payload bits (0, 8, .., 64,
    as DAGA-style captures write it); a value that is not a whole number of bytes is a bad row."""
    values = series.str.strip_chars().cast(pl.Int64, strict=False).fill_null(-1).to_numpy()
    if unit == "bits":
        bad.add((values < 0) | (values > 64) | (values % 8 != 0),
                lambda r: f"{field}: expected a DLC in bits (0, 8, 16, .., 64: dlc_unit is bits), got {_quote(series, r)}")
        return np.clip(values // 8, 0, 8)
    hint = " (a DLC in bits? set dlc_unit: bits in the mapping)" if unit == "bytes" else ""
    bad.add((values < 0) | (values > 8),
            lambda r: f"{field}: expected a DLC from 0 to 8, got {_quote(series, r)}"
                      + (hint if series[r] is not None and series[r].strip() in {"16", "24", "32", "40", "48", "56", "64"} else ""))
    return np.clip(values, 0, 8)


DEFAULT_ATTACK_VALUES = ["1", "Attack", "T", "True", "true", "TRUE"]
BOOLEAN_NORMAL_VALUES = ["False", "false", "FALSE"]


def labels(
    series: pl.Series, bad: BadRows, field: str, normal_values: list[str], attack_values: list[str] | None,
    *, attack_names_open: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Label column -> ``(label 0/1, attack name per row)``.

    Values in ``normal_values`` are normal; with ``attack_values`` given, only those are attacks and
    anything else is a bad row. Without it, and with ``attack_names_open`` (the mapping named its
    normal values), every other non-empty value is an attack whose name is the value itself (lower
    case). With neither (a mapping that left the labels to the defaults), only the default normal
    values, ``False`` and `DEFAULT_ATTACK_VALUES` are accepted: any other value is a bad row naming
    the line and the value, never a guessed attack.
    """
    text = series.str.strip_chars()
    if attack_values is None and not attack_names_open:
        normal_values, attack_values = [*normal_values, *BOOLEAN_NORMAL_VALUES], DEFAULT_ATTACK_VALUES
    is_normal = text.is_in(normal_values).fill_null(False).to_numpy()
    if attack_values is None:
        is_attack = (~is_normal) & text.is_not_null().to_numpy() & (text.fill_null("").str.len_bytes().to_numpy() > 0)
    else:
        is_attack = text.is_in(attack_values).fill_null(False).to_numpy()
    allowed = normal_values + (attack_values or ["any other value for an attack"])
    hint = "" if attack_names_open else " (name the label values in the mapping: normal_values, attack_values)"
    bad.add(
        ~(is_normal | is_attack),
        lambda r: f"{field}: expected one of {', '.join(map(str, allowed))}, got {_quote(series, r)}{hint}",
    )
    names = text.fill_null("").str.to_lowercase().to_numpy()
    return is_attack.astype(np.uint8), names
