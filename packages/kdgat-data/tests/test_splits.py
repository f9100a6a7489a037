import numpy as np
import pytest
from kdgat_data.frames import FrameTable
from kdgat_data.splits import split_train_validation


def _table(n):
    return FrameTable.build(timestamp=np.arange(n, dtype=float), can_id=np.arange(n), dlc=np.zeros(n),
                            payload=np.zeros((n, 8), np.uint8))


def test_validation_is_the_time_contiguous_tail():
    head, tail = split_train_validation(_table(1000), 0.2)
    assert len(head) == 800 and len(tail) == 200
    assert head.timestamp.max() < tail.timestamp.min()
    assert tail.timestamp.tolist() == list(range(800, 1000))


def test_bad_fraction_is_refused():
    with pytest.raises(ValueError, match="validation_fraction"):
        split_train_validation(_table(10), 1.0)
