import pickle

import numpy as np

from cleanpipe.arrays import GrowingArray


def test_extends_past_its_capacity_and_keeps_its_allocation_when_cleared():
    arr = GrowingArray(np.int64, capacity=4)
    assert arr.extend(np.arange(3)) == 0 and arr.extend(np.arange(3, 10)) == 3
    assert arr.view().tolist() == list(range(10)) and len(arr) == 10
    capacity = len(arr.data)
    arr.clear()
    assert len(arr) == 0 and len(arr.data) == capacity
    arr.extend(np.array([7]))
    assert arr.view().tolist() == [7]


def test_pickled_it_carries_its_values_not_its_spare_capacity():
    arr = GrowingArray(np.int64)  # 512 KB of capacity
    arr.extend(np.arange(5))
    data = pickle.dumps(arr)
    assert len(data) < 1000
    back = pickle.loads(data)
    assert back.view().tolist() == [0, 1, 2, 3, 4] and back.view().dtype == np.int64
    back.extend(np.array([5]))
    assert back.view().tolist() == list(range(6))
