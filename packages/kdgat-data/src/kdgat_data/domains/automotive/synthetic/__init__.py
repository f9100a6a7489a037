"""Synthetic CAN traffic: a seeded vehicle, bus arbitration and the standard attacks."""

from kdgat_data.domains.automotive.synthetic.attacks import ATTACKS
from kdgat_data.domains.automotive.synthetic.generator import (
    DEFAULT_FRAMES,
    generate_capture,
    generate_dataset,
)

__all__ = ["ATTACKS", "DEFAULT_FRAMES", "generate_capture", "generate_dataset"]
