import numpy as np
import pytest
from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.splits import split_train_validation


def _table(n):
    return FrameTable.build(timestamp=np.arange(n, dtype=float), can_id=np.arange(n), dlc=np.zeros(n),
                            payload=np.zeros((n, 8), np.uint8))


def test_validation_is_the_time_contiguous_tail():
    head, tail = split_train_validation(_table(1000), 0.2)
    assert len(head) == 800 and len(tail) == 200
    assert head.timestamp.max() < tail.timestamp.min()
    assert tail.timestamp.tolist() == list(range(800, 1000))


def test_a_head_block_validates_on_the_first_records():
    training, validation = split_train_validation(_table(1000), 0.2, block="head")
    assert validation.timestamp.tolist() == list(range(200)) and training.timestamp.tolist() == list(range(200, 1000))
    with pytest.raises(ValueError, match="validation_block"):
        split_train_validation(_table(10), 0.2, block="middle")


def test_bad_fraction_is_refused():
    with pytest.raises(ValueError, match="validation_fraction"):
        split_train_validation(_table(10), 1.0)


def test_tail_fractions_per_file_first_matching_pattern_wins():
    from kdgat_data.splits import tail_fractions

    files = ["train_01/normal-1.csv", "train_02/dos-1.csv", "train_02/fuzzing-1.csv"]
    fractions = tail_fractions(files, 0.2, {"train_02/dos-*": 0.5, "train_02/*": 0.0})
    assert fractions == {"train_01/normal-1.csv": 0.2, "train_02/dos-1.csv": 0.5, "train_02/fuzzing-1.csv": 0.0}
    assert tail_fractions(files, 0.3, None) == dict.fromkeys(files, 0.3)


def test_tail_fraction_pattern_matching_nothing_is_an_error():
    from kdgat_data.splits import tail_fractions

    with pytest.raises(ValueError, match="'train_03/\\*' matches no training file"):
        tail_fractions(["train_01/a.csv"], 0.2, {"train_03/*": 0.5})
