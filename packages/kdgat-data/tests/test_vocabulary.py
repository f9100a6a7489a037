import numpy as np
from kdgat_data.vocabulary import UNK_INDEX, Vocabulary


def test_known_ids_get_indices_from_one_and_unknown_map_to_unk():
    vocabulary = Vocabulary.from_training([np.array([0x300, 0x100]), np.array([0x200, 0x100])])
    assert vocabulary.to_list() == [0x100, 0x200, 0x300]
    assert len(vocabulary) == 4  # three IDs + UNK
    assert vocabulary.encode(np.array([0x100, 0x300, 0x999, 0x200])).tolist() == [1, 3, UNK_INDEX, 2]


def test_vocabulary_never_grows_after_training():
    vocabulary = Vocabulary([0x100])
    vocabulary.encode(np.array([0x555, 0x666]))
    assert vocabulary.to_list() == [0x100]
    assert not hasattr(vocabulary, "add")
    assert not vocabulary.ids.flags.writeable


def test_empty_vocabulary_maps_everything_to_unk():
    assert Vocabulary([]).encode(np.array([1, 2])).tolist() == [0, 0]
