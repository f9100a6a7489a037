"""Range reductions over overlapping record ranges equal a direct per-window computation."""

import numpy as np
from kdgat_data.window_statistics import range_max, range_means, range_min, range_stds, range_sums


def test_range_reductions_match_slices():
    rng = np.random.default_rng(0)
    values = rng.normal(size=200)
    start = np.array([0, 5, 5, 40, 150, 199])
    stop = np.array([10, 15, 6, 140, 200, 200])  # overlapping, nested, length 1, reaching the end
    for reduce, direct in ((range_sums, np.sum), (range_means, np.mean), (range_stds, np.std),
                           (range_max, np.max), (range_min, np.min)):
        expected = [direct(values[a:b]) for a, b in zip(start, stop, strict=True)]
        np.testing.assert_allclose(reduce(values, start, stop), expected, atol=1e-6)  # prefix sums: float64 rounding
    matrix = rng.normal(size=(200, 3))
    np.testing.assert_allclose(range_means(matrix, start, stop), [matrix[a:b].mean(0) for a, b in zip(start, stop, strict=True)])


def test_range_entropy_matches_scipy_on_overlapping_ranges_and_chunks():
    from kdgat_data.window_statistics import range_entropy

    def entropy(counts):
        p = counts / counts.sum()
        return float(-(p * np.log(p)).sum())

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 7, 500) * 1000 + 3  # sparse raw codes (CAN IDs)
    start = np.arange(0, 450, 3)
    stop = np.minimum(start + rng.integers(0, 50, len(start)), 500)
    expected = [entropy(np.unique(codes[a:b], return_counts=True)[1]) if b > a else 0.0
                for a, b in zip(start, stop, strict=True)]
    for chunk in (10_000_000, 60):  # one chunk, and many
        assert np.allclose(range_entropy(codes, start, stop, chunk_records=chunk), expected)
    assert range_entropy(np.full(10, 5), np.array([0]), np.array([10]))[0] == 0.0
