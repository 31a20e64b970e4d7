"""The dataset sources (dagrad.data): deterministic from the spec, the shapes and dtypes the training
loop reads, balanced classes, the split sizes, the batch order, and located errors for bad specs."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError
from sklearn.datasets import load_digits

from dagrad.data import DATA_NAMES, BatchOrder, DataSpec, load

CLASSIFICATION_2D = ["circle", "xor", "blobs", "spirals", "moons"]


@pytest.mark.parametrize("name", DATA_NAMES)
def test_same_spec_same_tensors_other_seed_other_tensors(name: str) -> None:
    a, b = load(DataSpec(name=name, seed=3)), load(DataSpec(name=name, seed=3))
    for field in ("train_x", "train_y", "test_x", "test_y"):
        assert torch.equal(getattr(a, field), getattr(b, field))
    assert not torch.equal(a.train_x, load(DataSpec(name=name, seed=4)).train_x)


def test_load_leaves_the_global_random_state_alone() -> None:
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    for name in DATA_NAMES:
        load(DataSpec(name=name))
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("name", DATA_NAMES)
def test_shapes_dtypes_and_split_sizes(name: str) -> None:
    spec = DataSpec(name=name, samples=150, test_fraction=0.3)
    data = load(spec)
    features = {"digits": 64, "sine": 1, "polynomial": 1}.get(name, 2)
    assert data.train_x.shape == (105, features)
    assert data.test_x.shape == (45, features)
    assert data.train_x.dtype == data.test_x.dtype == torch.float32
    if data.task == "classification":
        assert data.train_y.shape == (105,)
        assert data.test_y.shape == (45,)
        assert data.train_y.dtype == torch.int64
        assert data.classes == {"digits": 10, "blobs": 3, "spirals": 3}.get(name, 2)
        assert int(data.train_y.min()) >= 0
        assert int(data.train_y.max()) < data.classes
    else:
        assert data.train_y.shape == (105, 1)
        assert data.test_y.dtype == torch.float32
        assert data.classes is None


def test_no_test_split_at_fraction_zero_and_train_never_empty() -> None:
    data = load(DataSpec(name="moons", samples=10, test_fraction=0.0))
    assert data.train_x.shape == (10, 2)
    assert data.test_x.shape == (0, 2)
    assert load(DataSpec(name="moons", samples=4, test_fraction=0.99)).train_x.shape == (1, 2)


@pytest.mark.parametrize(
    ("name", "classes", "slack"), [("circle", 2, 0), ("moons", 2, 0), ("xor", 2, 2), ("blobs", 5, 0), ("spirals", 4, 0)]
)
def test_classes_are_balanced(name: str, classes: int, slack: int) -> None:
    data = load(DataSpec(name=name, samples=203, classes=classes))
    counts = torch.bincount(torch.cat([data.train_y, data.test_y]), minlength=classes)
    assert len(counts) == classes
    assert int(counts.sum()) == 203
    assert int(counts.max() - counts.min()) <= max(1, slack)


def _all(name: str, **kw: object) -> tuple[torch.Tensor, torch.Tensor]:
    data = load(DataSpec(name=name, test_fraction=0.0, **kw))  # type: ignore[arg-type]
    return data.train_x.double(), data.train_y


def test_noise_free_sets_are_the_shapes_they_name() -> None:
    x, y = _all("circle", noise=0.0, samples=100)
    radius = x.norm(dim=1)
    assert torch.allclose(radius[y == 0], torch.ones(50, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(radius[y == 1], torch.full((50,), 0.5, dtype=torch.float64), atol=1e-6)
    x, y = _all("xor", noise=0.0, samples=100)
    assert torch.equal((x[:, 0] * x[:, 1] < 0).to(torch.int64), y)
    x, y = _all("moons", noise=0.0, samples=100)
    upper, lower = x[y == 0], x[y == 1]
    assert torch.allclose(upper.norm(dim=1), torch.ones(50, dtype=torch.float64), atol=1e-6)
    assert bool((upper[:, 1] >= -1e-6).all())
    shifted = lower - torch.tensor([1.0, 0.5], dtype=torch.float64)
    assert torch.allclose(shifted.norm(dim=1), torch.ones(50, dtype=torch.float64), atol=1e-6)
    x, y = _all("spirals", noise=0.0, samples=90, classes=3)
    r = x.norm(dim=1)
    angle = torch.atan2(x[:, 1], x[:, 0])
    expected = 4 * r + 2 * math.pi * y.double() / 3
    assert torch.allclose(
        torch.remainder(angle - expected + math.pi, 2 * math.pi) - math.pi,
        torch.zeros(90, dtype=torch.float64),
        atol=1e-4,
    )


def test_blobs_lie_around_their_centres() -> None:
    x, y = _all("blobs", noise=0.0, samples=400, classes=4)
    for k in range(4):
        centre = x[y == k].mean(dim=0)
        angle = 2 * math.pi * k / 4
        expected = torch.tensor([2 * math.cos(angle), 2 * math.sin(angle)], dtype=torch.float64)
        assert torch.allclose(centre, expected, atol=0.1)


def test_noise_is_gaussian_of_the_asked_deviation() -> None:
    x_clean, y_clean = _all("sine", noise=0.0, samples=4000)
    assert torch.allclose(y_clean.double(), torch.sin(x_clean), atol=1e-6)
    assert float(x_clean.min()) >= -math.pi
    assert float(x_clean.max()) <= math.pi
    x, y = _all("sine", noise=0.5, samples=4000)
    residual = y.double() - torch.sin(x)
    assert abs(float(residual.std()) - 0.5) < 0.03
    assert abs(float(residual.mean())) < 0.03


def test_polynomial_is_a_polynomial_of_its_degree() -> None:
    x, y = _all("polynomial", noise=0.0, samples=50, degree=4)
    vander = x ** torch.arange(5, dtype=torch.float64)
    coefficients = torch.linalg.lstsq(vander, y.double()).solution
    assert torch.allclose(vander @ coefficients, y.double(), atol=1e-5)
    low = x ** torch.arange(4, dtype=torch.float64)  # a cubic does not fit it
    fit = low @ torch.linalg.lstsq(low, y.double()).solution
    assert float((fit - y.double()).abs().max()) > 1e-3


def test_digits_are_sklearns_images_over_16_with_their_labels() -> None:
    bunch = load_digits()
    data = load(DataSpec(name="digits", samples=1797, test_fraction=0.0))
    reference = {
        tuple((torch.tensor(img) / 16).reshape(64).tolist()): int(t)
        for img, t in zip(bunch.images, bunch.target, strict=True)
    }
    assert data.train_x.shape == (1797, 64)
    for row, label in zip(data.train_x[:200].double(), data.train_y[:200], strict=True):
        key = tuple(row.tolist())
        assert reference[key] == int(label)
    assert torch.equal(torch.bincount(data.train_y), torch.bincount(torch.tensor(bunch.target)))


@pytest.mark.parametrize(
    ("fields", "loc", "words"),
    [
        ({"name": "digits", "samples": 1798}, ("samples",), "1797"),
        ({"name": "blobs", "samples": 4, "classes": 5}, ("classes",), "fewer classes"),
        ({"name": "blobs", "classes": 9}, ("classes",), "less than or equal to 8"),
        ({"name": "moons", "samples": 3}, ("samples",), "greater than or equal to 4"),
        ({"name": "moons", "samples": 10**6}, ("samples",), "less than or equal"),
        ({"name": "moons", "noise": -0.1}, ("noise",), "greater than or equal to 0"),
        ({"name": "moons", "noise": float("nan")}, ("noise",), "finite"),
        ({"name": "moons", "test_fraction": 1.0}, ("test_fraction",), "less than 1"),
        ({"name": "moons", "seed": -1}, ("seed",), "greater than or equal to 0"),
        ({"name": "polynomial", "degree": 0}, ("degree",), "greater than or equal to 1"),
        ({"name": "mnist"}, ("name",), "circle"),
        ({"name": "moons", "batch": 3}, ("batch",), "Extra inputs"),
    ],
)
def test_bad_specs_are_refused_where_they_are_wrong(
    fields: dict[str, object], loc: tuple[str, ...], words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        DataSpec.model_validate(fields)
    errors = caught.value.errors()
    assert errors[0]["loc"] == loc, errors
    assert words in errors[0]["msg"], errors


@pytest.mark.parametrize(("n", "batch_size"), [(12, 4), (10, 3), (7, 7), (5, 1)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_every_index_once_per_epoch(n: int, batch_size: int, shuffle: bool) -> None:
    order = BatchOrder(n, batch_size, shuffle=shuffle, seed=5)
    steps = 4 * n  # 4 * batch_size epochs
    stream = torch.cat([order.indices(s) for s in range(steps)])
    assert all(len(order.indices(s)) == batch_size for s in range(steps))
    assert order.indices(0).dtype == torch.int64
    for epoch in range(steps * batch_size // n):
        chunk = stream[epoch * n : (epoch + 1) * n]
        assert torch.equal(torch.sort(chunk).values, torch.arange(n))
        assert torch.equal(chunk, order.epoch_order(epoch))
    if not shuffle:
        assert torch.equal(stream[:n], torch.arange(n))


def test_epochs_reshuffle_and_seeds_decide_the_batches() -> None:
    order = BatchOrder(100, 10, seed=1)
    assert not torch.equal(order.epoch_order(0), order.epoch_order(1))
    assert torch.equal(order.indices(13), BatchOrder(100, 10, seed=1).indices(13))
    assert not torch.equal(order.indices(0), BatchOrder(100, 10, seed=2).indices(0))
    assert order.epoch_of(9) == 0
    assert order.epoch_of(10) == 1
    assert order.steps_per_epoch == 10


def test_a_batch_crossing_an_epoch_end_takes_the_next_epochs_start() -> None:
    order = BatchOrder(10, 4, seed=0)
    assert torch.equal(order.indices(2), torch.cat([order.epoch_order(0)[8:], order.epoch_order(1)[:2]]))


@pytest.mark.parametrize(("args", "words"), [((0, 1), "n:"), ((5, 0), "batch_size"), ((5, 6), "batch_size")])
def test_bad_batch_orders_say_which_argument(args: tuple[int, int], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        BatchOrder(*args)
    with pytest.raises(ValueError, match="step"):
        BatchOrder(5, 2).indices(-1)
