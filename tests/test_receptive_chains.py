"""Hypothesis-generated chains of convolutions and poolings (stride, padding, dilation, groups,
ceil_mode), with relus between, ending or not in a flatten or a view and a linear layer (whose
field is every input element that reaches it): the structural receptive field of one output
element on the input, as dagrad chains its ops' rules, against a brute-force dependency check of
the same chain written in plain PyTorch; and the gradient support inside it."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from dagrad.engine import Engine
from dagrad.errors import GraphErrors
from graph_builder import GraphBuilder
from receptive_brute import dependency

Layer = dict[str, Any]


def conv_layer(channels: int) -> st.SearchStrategy[Layer]:
    groups = st.sampled_from([g for g in (1, 2) if channels % g == 0])
    return st.builds(
        lambda k, s, p, d, g, per: {
            "op": "conv2d",
            "k": k,
            "stride": s,
            "padding": p,
            "dilation": d,
            "groups": g,
            "out": g * per,
        },
        st.integers(1, 3),
        st.integers(1, 2),
        st.integers(0, 2),
        st.integers(1, 2),
        groups,
        st.integers(1, 2),
    )


POOL = st.one_of(
    st.builds(
        lambda k, s, p, d, c: {
            "op": "max_pool2d",
            "kernel_size": k,
            "stride": s,
            "padding": min(p, k // 2),
            "dilation": d,
            "ceil_mode": c,
        },
        st.integers(1, 3),
        st.integers(1, 3),
        st.integers(0, 1),
        st.integers(1, 2),
        st.booleans(),
    ),
    st.builds(
        lambda k, s, p, c: {
            "op": "avg_pool2d",
            "kernel_size": k,
            "stride": s,
            "padding": min(p, k // 2),
            "ceil_mode": c,
        },
        st.integers(1, 3),
        st.integers(1, 3),
        st.integers(0, 1),
        st.booleans(),
    ),
)


@st.composite
def chains(draw: st.DrawFn) -> tuple[tuple[int, ...], list[Layer]]:
    channels = draw(st.integers(1, 2))
    shape = (1, channels, draw(st.integers(5, 10)), draw(st.integers(5, 10)))
    layers: list[Layer] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "pool", "relu"]))
        if kind == "conv":
            layer = draw(conv_layer(channels))
            channels = layer["out"]
        else:
            layer = draw(POOL) if kind == "pool" else {"op": "relu"}
        layers.append(layer)
    tail = draw(st.sampled_from(["none", "flatten", "view", "flatten_linear", "view_linear"]))
    if tail != "none":
        # flatten from dim 1 (the batch kept) or the whole tensor; a view to [1, -1]
        reshape = tail.split("_")[0]
        layers.append({"op": "flatten", "start_dim": draw(st.sampled_from([0, 1]))} if reshape == "flatten"
                      else {"op": "view", "shape": [1, -1]})  # fmt: skip
        if tail.endswith("linear"):
            layers.append({"op": "linear", "out": draw(st.integers(1, 3))})
    return shape, layers


def torch_chain(x: torch.Tensor, layers: list[Layer], weights: list[torch.Tensor]) -> torch.Tensor:
    """The chain in plain PyTorch, independent of dagrad's graph."""
    w = iter(weights)
    for layer in layers:
        if layer["op"] == "conv2d":
            x = F.conv2d(
                x,
                next(w),
                stride=layer["stride"],
                padding=layer["padding"],
                dilation=layer["dilation"],
                groups=layer["groups"],
            )
        elif layer["op"] == "max_pool2d":
            x = F.max_pool2d(
                x, layer["kernel_size"], layer["stride"], layer["padding"], layer["dilation"], layer["ceil_mode"]
            )
        elif layer["op"] == "avg_pool2d":
            x = F.avg_pool2d(x, layer["kernel_size"], layer["stride"], layer["padding"], layer["ceil_mode"])
        elif layer["op"] == "flatten":
            x = torch.flatten(x, layer["start_dim"])
        elif layer["op"] == "view":
            x = x.view(*layer["shape"])
        elif layer["op"] == "linear":
            x = F.linear(x, next(w))
        else:
            x = F.relu(x)
    return x


def draw_weights(x: torch.Tensor, layers: list[Layer], gen: torch.Generator) -> list[torch.Tensor]:
    """Each conv's and linear's weight, drawn in chain order: a linear's in_features is what the
    chain before it makes (run to that point)."""
    weights: list[torch.Tensor] = []
    channels = x.shape[1]
    for i, layer in enumerate(layers):
        if layer["op"] == "conv2d":
            shape = (layer["out"], channels // layer["groups"], layer["k"], layer["k"])
            weights.append(torch.randn(shape, dtype=torch.float64, generator=gen))
            channels = layer["out"]
        elif layer["op"] == "linear":
            features = torch_chain(x, layers[:i], weights).shape[-1]
            weights.append(torch.randn(layer["out"], features, dtype=torch.float64, generator=gen))
    return weights


def unpack(mask: dict[str, Any], shape: tuple[int, ...]) -> torch.Tensor:
    bits = np.unpackbits(np.frombuffer(base64.b64decode(mask["bits"]), dtype=np.uint8), bitorder="little")
    return torch.from_numpy(bits[: int(np.prod(shape))].astype(bool)).reshape(shape)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains(), st.integers(0, 2**31 - 1), st.data())
def test_chain_field_matches_brute_force(
    chain: tuple[tuple[int, ...], list[Layer]], seed: int, data: st.DataObject
) -> None:
    shape, layers = chain
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, dtype=torch.float64, generator=gen)
    try:
        weights = draw_weights(x, layers, gen)
        out = torch_chain(x, layers, weights)
    except RuntimeError:
        assume(False)
    assume(out.numel() > 0)
    b = GraphBuilder()
    node = b.tensor("x", x, requires_grad=False)
    w = iter(weights)
    for i, layer in enumerate(layers):
        attrs = {k: v for k, v in layer.items() if k not in ("op", "k", "out")}
        if layer["op"] in ("conv2d", "linear"):
            node = b.op(
                layer["op"], f"l{i}", attrs=attrs, input=node, weight=b.tensor(f"w{i}", next(w), requires_grad=True)
            )
        else:
            node = b.op(layer["op"], f"l{i}", attrs=attrs, input=node)
    event(" ".join(layer["op"] for layer in layers[-2:]))
    index = [data.draw(st.integers(0, n - 1)) for n in out.shape]
    try:
        field = Engine().receptive_field(b.graph(), node, index).model_dump()
    except GraphErrors as exc:
        raise AssertionError(f"dagrad refused a chain PyTorch runs: {exc}") from exc
    on_x = next(f for f in field["fields"] if f["node"] == "x")
    structural = unpack(on_x["structural"], shape)
    flat = int(np.ravel_multi_index(index, out.shape))

    def element(values: list[torch.Tensor]) -> torch.Tensor:
        return torch_chain(values[0], layers, weights).reshape(-1)[flat : flat + 1]

    found = torch.zeros(x.numel(), dtype=torch.bool)
    for draw_seed in range(3):  # whatever the data: a union over draws of the input
        g2 = torch.Generator().manual_seed(seed + draw_seed)
        x2 = x if draw_seed == 0 else torch.randn(shape, dtype=torch.float64, generator=g2)
        found |= dependency(element, [x2])[0][0]
    assert torch.equal(structural.reshape(-1), found), (layers, index)
    # The gradient support, against torch.autograd.grad with a one-hot grad_outputs.
    xg = x.clone().requires_grad_()
    y = torch_chain(xg, layers, weights)
    one_hot = torch.zeros_like(y)
    one_hot[tuple(index)] = 1.0
    (g,) = torch.autograd.grad(y, xg, one_hot)
    gradient = unpack(on_x["gradient"], shape)
    assert torch.equal(gradient, g != 0)
    assert not (gradient & ~structural).any(), "a non-zero gradient outside the structural field"
