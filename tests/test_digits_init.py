"""The digits inits of the sources: scikit-learn's 8x8 handwritten digits and their labels, against
the data set read here with load_digits and turned into tensors by hand, as a notebook would."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient
from sklearn.datasets import load_digits

from conftest import errors_of, post_json
from dagrad.results import TensorPayload
from graph_builder import decode

DIGITS = load_digits()


def images(n: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.tensor(DIGITS.images[:n] / 16, dtype=dtype)


def labels(n: int) -> torch.Tensor:
    return torch.tensor(DIGITS.target[:n])


def run(client: TestClient, nodes: list[dict[str, Any]], **run: Any) -> dict[str, Any]:
    response = client.post("/api/evaluate?full=*", json={"nodes": nodes, "run": run})
    assert response.status_code == 200, response.text
    return dict(response.json()["nodes"])


def value(nodes: dict[str, Any], nid: str, part: str = "value") -> torch.Tensor:
    return decode(TensorPayload.model_validate(nodes[nid][part]))


def validation_errors(client: TestClient, graph: dict[str, Any]) -> list[dict[str, Any]]:
    """What /api/validate says is wrong, whether it answers an invalid graph with a 422 or with a
    200 that says valid: false."""
    response = post_json(client, "/api/validate", graph)
    body = response.json()
    if response.status_code == 200 and body.get("valid", True):
        return []
    assert response.status_code in (200, 422), response.text
    return list(body["errors"])


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [([12, 1, 8, 8], None), ([5, 64], "float64"), ([3, 8, 8], "float32"), ([1, 1, 8, 8], None), ([0, 64], None)],
)
def test_digits_are_the_data_sets_first_images_divided_by_16(
    client: TestClient, shape: list[int], dtype: str | None
) -> None:
    attrs = {"shape": shape, "init": "digits", **({"dtype": dtype} if dtype else {})}
    nodes = run(client, [{"id": "x", "op": "input", "attrs": attrs}])
    want_dtype = torch.float64 if dtype == "float64" else torch.float32
    got = value(nodes, "x")
    assert got.dtype == want_dtype
    torch.testing.assert_close(got, images(shape[0], want_dtype).reshape(shape), rtol=0, atol=0)
    if shape[0] > 1:
        assert float(got.min()) == 0.0
        assert float(got.max()) == 1.0  # some pixel of a few digits is at full ink (16)


def test_digit_labels_are_the_images_labels(client: TestClient) -> None:
    nodes = run(
        client,
        [
            {"id": "y", "op": "constant", "attrs": {"shape": [30], "init": "digit_labels", "dtype": "int64"}},
            {"id": "yf", "op": "constant", "attrs": {"shape": [30], "init": "digit_labels"}},
        ],
    )
    torch.testing.assert_close(value(nodes, "y"), labels(30), rtol=0, atol=0)
    torch.testing.assert_close(value(nodes, "yf"), labels(30).float(), rtol=0, atol=0)
    assert value(nodes, "y")[:10].tolist() == list(range(10))  # the data set starts 0, 1, ... 9


def test_a_cross_entropy_of_digits_against_their_labels_matches_pytorch(client: TestClient) -> None:
    """A linear classifier on flattened digits: loss and the weight's gradient, as PyTorch has them."""
    nodes = run(
        client,
        [
            {"id": "w", "op": "parameter", "attrs": {"shape": [10, 64], "init": "uniform", "low": -0.1, "high": 0.1}},
            {"id": "x", "op": "input", "attrs": {"shape": [20, 64], "init": "digits"}},
            {"id": "y", "op": "constant", "attrs": {"shape": [20], "init": "digit_labels", "dtype": "int64"}},
            {"id": "logits", "op": "linear", "inputs": {"input": "x", "weight": "w"}},
            {"id": "loss", "op": "cross_entropy", "inputs": {"input": "logits", "target": "y"}},
        ],
        seed=3,
        output="loss",
    )
    torch.manual_seed(3)
    w = torch.empty(10, 64).uniform_(-0.1, 0.1).requires_grad_()
    loss = F.cross_entropy(F.linear(images(20).reshape(20, 64), w), labels(20))
    loss.backward()
    torch.testing.assert_close(value(nodes, "loss"), loss.detach())
    assert w.grad is not None
    torch.testing.assert_close(value(nodes, "w", "grad"), w.grad)


@pytest.mark.parametrize(
    ("attrs", "attribute", "says"),
    [
        ({"shape": [3], "init": "digits"}, "shape", "shape [N, 1, 8, 8]"),
        ({"shape": [3, 1, 8, 7], "init": "digits"}, "shape", "images of 8x8 pixels"),
        ({"shape": [1798, 64], "init": "digits"}, "shape", "1,797 images"),
        ({"shape": [3, 4], "init": "digit_labels", "dtype": "int64"}, "shape", "shape [N]"),
        ({"shape": [2000], "init": "digit_labels", "dtype": "int64"}, "shape", "1,797 images"),
        ({"shape": [3, 64], "init": "digits", "dtype": "int64"}, "init", "set dtype to float32 or float64"),
        ({"shape": [3], "init": "digit_labels", "dtype": "bool"}, "init", "set dtype to int64"),
    ],
)
def test_a_digits_source_that_cannot_be_made_is_refused_on_its_attribute(
    client: TestClient, attrs: dict[str, Any], attribute: str, says: str
) -> None:
    response = post_json(client, "/api/evaluate", {"nodes": [{"id": "x", "op": "input", "attrs": attrs}]})
    assert response.status_code == 422, response.text
    [error] = errors_of(response)
    assert (error["node"], error["attribute"], error["code"]) == ("x", attribute, "bad_attribute")
    assert says in error["message"]


@pytest.mark.parametrize(("count", "valid"), [(5, True), (6, False)])
def test_validation_knows_the_labels_a_digits_batch_holds(client: TestClient, count: int, valid: bool) -> None:
    """The first 5 digits are 0 to 4: five classes suffice for them, not for the first 6; validation
    says so before anything runs, and the run agrees."""
    graph = {
        "nodes": [
            {"id": "logits", "op": "parameter", "attrs": {"shape": [count, 5]}},
            {"id": "y", "op": "constant", "attrs": {"shape": [count], "init": "digit_labels", "dtype": "int64"}},
            {"id": "loss", "op": "cross_entropy", "inputs": {"input": "logits", "target": "y"}},
        ],
        "run": {"output": "loss"},
    }
    errors = validation_errors(client, graph)
    response = post_json(client, "/api/evaluate", graph)
    if valid:
        assert errors == []
        assert response.status_code == 200, response.text
        return
    [error] = errors
    assert (error["node"], error["port"], error["code"]) == ("loss", "target", "value")
    assert "class 5" in error["message"]
    assert response.status_code == 422
    assert errors_of(response) == errors
