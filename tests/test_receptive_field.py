"""POST /api/receptive_field: one element's field on every upstream node of the chapter's Net,
against hand-written PyTorch (the gradient support: torch.autograd.grad with a one-hot
grad_outputs; the structural field: the box the chapter's arithmetic gives), and every refusal
located, with what to change."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from conftest import MakeClient, errors_of
from dagrad import examples
from dagrad.engine import Engine
from dagrad.receptive import forward_only
from graph_builder import decode

NET = examples.load_all()["conv_net"].model_dump(mode="json")
SOURCES = "input1,conv1_weight,conv1_bias,conv2_weight,conv2_bias"


def unpack(mask: dict[str, Any], shape: list[int]) -> torch.Tensor:
    bits = np.unpackbits(np.frombuffer(base64.b64decode(mask["bits"]), dtype=np.uint8), bitorder="little")
    return torch.from_numpy(bits[: int(np.prod(shape))].astype(bool)).reshape(shape)


def field(client: TestClient, graph: dict[str, Any], node: str, index: str) -> Any:
    return client.post(f"/api/receptive_field?node={node}&index={index}", json=graph)


def test_net_conv2_pixel_matches_pytorch(client: TestClient) -> None:
    response = field(client, NET, "c2", "0,3,2,1")
    assert response.status_code == 200, response.text
    body = response.json()
    by_node = {f["node"]: f for f in body["fields"]}
    assert set(by_node) == {*SOURCES.split(","), "c1", "p1", "r1"}
    values = client.post(f"/api/evaluate?full={SOURCES}", json=NET).json()["nodes"]
    x, w1, b1, w2, b2 = (decode(values[n]["value"]).double() for n in SOURCES.split(","))
    leaves = [t.requires_grad_() for t in (x, w1, b1, w2, b2)]
    c1 = F.conv2d(x, w1, b1)
    p1 = F.max_pool2d(c1, 3, 3)
    r1 = F.relu(p1)
    c2 = F.conv2d(r1, w2, b2)
    one_hot = torch.zeros_like(c2)
    one_hot[0, 3, 2, 1] = 1.0
    grads = torch.autograd.grad(c2, [*leaves, c1, p1, r1], one_hot)
    names = [*SOURCES.split(","), "c1", "p1", "r1"]
    for name, g in zip(names, grads, strict=True):
        got = unpack(by_node[name]["gradient"], by_node[name]["shape"])
        assert torch.equal(got, g != 0), name
        assert by_node[name]["gradient"]["count"] == int((g != 0).sum())
    # Structurally: sample 0, every channel, rows 2-6 / cols 1-5 of r1 (conv2's 5×5 kernel), then
    # ×3 (the 3×3 pooling, stride 3): c1's rows 6-20, cols 3-17, and conv1's 5×5: rows 6-24, cols 3-21.
    box = torch.zeros(12, 1, 28, 28, dtype=torch.bool)
    box[0, 0, 6:25, 3:22] = True
    assert torch.equal(unpack(by_node["input1"]["structural"], [12, 1, 28, 28]), box)
    assert by_node["input1"]["structural"]["extent"] == [[0, 0], [0, 0], [6, 24], [3, 21]]
    assert by_node["conv2_bias"]["structural"]["extent"] == [[3, 3]]
    # max pooling routes to one element per window: the gradient is far smaller than the field on c1
    assert by_node["c1"]["gradient"]["count"] < by_node["c1"]["structural"]["count"] == 32 * 15 * 15
    assert body["value"] == pytest.approx(float(c2[0, 3, 2, 1].detach()), rel=1e-5)


def test_dilation_leaves_holes(client: TestClient) -> None:
    b = {
        "nodes": [
            {"id": "x", "op": "input", "attrs": {"shape": [1, 1, 20, 30]}},
            {"id": "w", "op": "parameter", "attrs": {"shape": [1, 1, 3, 3]}},
            {"id": "y", "op": "conv2d", "attrs": {"dilation": 4}, "inputs": {"input": "x", "weight": "w"}},
        ]
    }
    body = field(client, b, "y", "0,0,5,7").json()
    on_x = next(f for f in body["fields"] if f["node"] == "x")
    expected = torch.zeros(1, 1, 20, 30, dtype=torch.bool)
    expected[0, 0, 5:14:4, 7:16:4] = True  # 3×3 taps, 4 apart: an effective kernel of 9
    assert torch.equal(unpack(on_x["structural"], [1, 1, 20, 30]), expected)
    assert on_x["structural"]["count"] == 9


def test_linear_sees_everything(client: TestClient) -> None:
    body = field(client, NET, "f1", "2,7").json()
    on_x = next(f for f in body["fields"] if f["node"] == "input1")
    expected = torch.zeros(12, 1, 28, 28, dtype=torch.bool)
    expected[2] = True  # a fully connected layer: all of its sample's image
    assert torch.equal(unpack(on_x["structural"], [12, 1, 28, 28]), expected)


@pytest.mark.parametrize(
    ("node", "index", "says"),
    [
        ("nope", "0", "there is no node 'nope'"),
        ("c2", "0,3,2,4", "dimension 3 takes 0 to 3"),
        ("c2", "0,3,2", "give 4, one per dimension"),
        ("c2", "a,b", "not a list of integers"),
        ("input1", "0,0,0,0", "nothing lies upstream"),
    ],
)
def test_refusals_are_located(client: TestClient, node: str, index: str, says: str) -> None:
    response = field(client, NET, node, index)
    assert response.status_code == 422
    error = errors_of(response)[0]
    assert says in error["message"]
    if node in ("c2", "input1") and index != "a,b":
        assert error["node"] == node


def test_refused_over_the_element_limit(make_client: MakeClient) -> None:
    response = field(make_client(max_field_elements=5000), NET, "c2", "0,0,0,0")
    assert response.status_code == 422
    error = errors_of(response)[0]
    assert error["code"] == "limit"
    assert error["node"] == "c2"
    assert "max_field_elements" in error["message"]


def test_unknown_through_an_op_without_a_rule(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "x", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "y", "op": "pow", "attrs": {"exponent": 3.0}, "inputs": {"input": "x"}},
            {"id": "s", "op": "sum", "inputs": {"input": "y"}},
            {"id": "g", "op": "grad", "inputs": {"outputs": "s", "inputs": "x"}, "attrs": {"create_graph": True}},
            {"id": "z", "op": "mul", "inputs": {"input": "g", "other": "x"}},
        ]
    }
    response = field(client, graph, "z", "1")
    assert response.status_code == 200, response.text
    by_node = {f["node"]: f for f in response.json()["fields"]}
    assert by_node["g"]["structural"] is not None
    assert by_node["y"]["structural"] is None
    assert "grad" in by_node["y"]["structural_note"]
    assert by_node["x"]["structural"] is None  # reached through grad too: unknown, not guessed


def test_validate_fills_in_the_window_arithmetic(client: TestClient) -> None:
    dilation = examples.load_all()["conv2d_dilation"].model_dump(mode="json")
    body = client.post("/api/validate", json=dilation).json()
    (node,) = body["windows"]
    h, w = body["windows"][node]
    # The chapter's example: k = 3, d = 4 -> an effective kernel of 9, and 20×30 -> 12×22.
    assert (h["kernel"], h["dilation"], h["effective"], h["size_in"], h["size_out"]) == (3, 4, 9, 20, 12)
    assert (w["size_in"], w["size_out"]) == (30, 22)
    assert h["formula"] == "floor((20 + 2·0 − 4·(3 − 1) − 1) / 1) + 1 = 12"


def test_ceil_mode_window_arithmetic_agrees_with_pytorch(client: TestClient) -> None:
    graph = {
        "nodes": [
            {"id": "x", "op": "input", "attrs": {"shape": [1, 1, 9, 10]}},
            {
                "id": "p",
                "op": "max_pool2d",
                "attrs": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                "inputs": {"input": "x"},
            },
        ]
    }
    h, w = client.post("/api/validate", json=graph).json()["windows"]["p"]
    expected = F.max_pool2d(torch.zeros(1, 1, 9, 10), 3, 2, 1, ceil_mode=True).shape[-2:]
    assert (h["size_out"], w["size_out"]) == tuple(expected)
    assert h["formula"].startswith("ceil((9 + 2·1 − 1·(3 − 1) − 1) / 2) + 1")


@pytest.mark.parametrize("name", sorted(examples.load_all()))
def test_every_example_node_answers(name: str) -> None:
    """Every op node of every example, element 0: a field or a located refusal, never a failure
    (in-place ops, grad nodes, no_grad regions, int64 targets included)."""
    graph = examples.load_all()[name]
    engine = Engine()
    plan = engine.compile(forward_only(graph)).plan
    for node in plan.order:
        if node.op.source:
            continue
        answer = engine.receptive_field(graph, node.id, [0] * len(node.meta.shape))
        assert {f.node for f in answer.fields}, node.id
        for f in answer.fields:
            if f.structural is not None and f.gradient is not None:
                s = unpack(f.structural.model_dump(), f.shape)
                g = unpack(f.gradient.model_dump(), f.shape)
                assert not (g & ~s).any(), f"{name}: {f.node} has a gradient outside the field of {node.id}"
