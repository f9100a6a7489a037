"""The one stable time sort every reader uses."""

import numpy as np
from kdgat_data.readers.time_order import stable_time_order


def test_stable_time_order_is_numpys_stable_argsort_ties_included():
    rng = np.random.default_rng(0)
    timestamp = np.round(rng.random(50_000) * 100, 1)  # about 1,000 distinct times: many ties
    order = stable_time_order(timestamp)
    np.testing.assert_array_equal(order, np.argsort(timestamp, kind="stable"))
    assert stable_time_order(np.zeros(0)).tolist() == []
