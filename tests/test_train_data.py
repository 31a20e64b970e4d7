"""The datasets of dagrad.data: shapes and dtypes as the contract says, the same spec the same
tensors, the split and the batches."""

from __future__ import annotations

import pytest
import torch

from dagrad.data import BatchOrder, DataSpec, load

TWO_D = ["circle", "xor", "blobs", "spirals", "moons"]


@pytest.mark.parametrize("name", [*TWO_D, "sine", "polynomial", "digits"])
def test_shapes_dtypes_and_seeds(name: str) -> None:
    spec = DataSpec(name=name, samples=100)  # type: ignore[arg-type]
    d = load(spec)
    assert len(d.train_x) + len(d.test_x) == 100
    assert len(d.test_x) == 20
    width = 2 if name in TWO_D else 1 if name in ("sine", "polynomial") else 64
    assert d.train_x.shape[1:] == (width,)
    assert d.train_x.dtype == torch.float32
    if d.task == "classification":
        assert d.train_y.dtype == torch.int64
        assert d.train_y.shape == (80,)
        assert d.classes is not None
        assert int(d.train_y.max()) < d.classes
    else:
        assert d.train_y.dtype == torch.float32
        assert d.train_y.shape == (80, 1)
    again = load(spec)
    assert torch.equal(again.train_x, d.train_x)
    assert torch.equal(again.test_y, d.test_y)
    if name != "digits":  # digits are the same images whatever the seed; only their split moves
        assert not torch.equal(load(spec.model_copy(update={"seed": 1})).train_x, d.train_x)


def test_batches_cover_an_epoch_and_follow_the_seed() -> None:
    order = BatchOrder(10, 3, True, 5)
    epoch = torch.cat([order.indices(k) for k in range(3)])
    assert len(set(epoch.tolist())) == 9  # three batches of 3, no row twice; the tenth waits
    assert torch.equal(BatchOrder(10, 3, True, 5).indices(4), order.indices(4))
    assert not torch.equal(BatchOrder(10, 3, True, 6).indices(0), BatchOrder(10, 3, True, 5).indices(0))
    assert BatchOrder(10, 3, False, 0).indices(1).tolist() == [3, 4, 5]
    with pytest.raises(ValueError, match="batch_size"):
        BatchOrder(4, 5, True, 0)
