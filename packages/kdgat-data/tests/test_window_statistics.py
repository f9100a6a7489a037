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
