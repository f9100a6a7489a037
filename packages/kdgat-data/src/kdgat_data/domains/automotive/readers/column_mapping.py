"""`ColumnMapping`: which column of a column-mapped capture holds what (pydantic only, so the
dataset catalog validates it without importing numpy or polars)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

WHITESPACE = "whitespace"
ColumnRef = str | int


class ColumnMapping(BaseModel):
    """Where each frame field lives. Names when ``header`` is true, 0-based positions otherwise.

    Exactly one of ``payload`` (one hex string of 0-8 bytes) and ``bytes`` (one hex byte per
    column) must be given. Without ``label`` the capture is unlabelled.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    separator: str = Field(",", description="field separator, or 'whitespace' for runs of blanks")
    header: bool = True
    timestamp: ColumnRef
    id: ColumnRef
    payload: ColumnRef | None = None
    bytes: list[ColumnRef] | None = Field(None, max_length=8)
    dlc: ColumnRef | None = None
    dlc_unit: Literal["bytes", "bits"] = Field("bytes", description="what the dlc column counts: bytes (0-8) or bits (0-64)")
    label: ColumnRef | None = None
    normal_values: list[str] = Field(default_factory=lambda: ["0", "Benign", "Normal", "R"])
    attack_values: list[str] | None = Field(
        None, description="if set, only these label values are attacks and any other value is an error"
    )

    @model_validator(mode="after")
    def _one_payload_source(self) -> ColumnMapping:
        if (self.payload is None) == (self.bytes is None):
            raise ValueError("give exactly one of 'payload' (a hex string column) and 'bytes' (byte columns)")
        return self


ROAD = ColumnMapping(
    timestamp="Time", id="Id", bytes=[f"Byte{k}" for k in range(1, 9)], label="Label", normal_values=["Benign"]
)
CRYSYS = ColumnMapping(
    separator=WHITESPACE, header=False, timestamp=0, id=1, dlc=3, bytes=list(range(4, 12))
)
