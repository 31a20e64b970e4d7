"""The benchmark graphs, built in code as dagrad `Graph` documents, and their raw PyTorch twins.

Every source is drawn the way dagrad draws it (one CPU generator seeded with run.seed,
source after source in node order), so the raw PyTorch code computes the very same numbers
and the benchmark can check that both sides agree before it times them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F

from dagrad.graph_format import Graph

SEED = 0


def _node(nid: str, op: str, inputs: dict[str, Any] | None = None, **attrs: Any) -> dict[str, Any]:
    return {"id": nid, "op": op, "inputs": inputs or {}, "attrs": attrs}


# --- a. the course's 4.1 DAG ------------------------------------------------------------------


def dag41(device: str = "cpu") -> Graph:
    """w1, w2 = rand(5, 5); x = randn(5); x1 = w1@x; x2 = x + w2@x1; x3 = w1@(x1+x2); q = x3.norm()."""
    nodes = [
        _node("w1", "parameter", shape=[5, 5], init="uniform"),
        _node("w2", "parameter", shape=[5, 5], init="uniform"),
        _node("x", "input", shape=[5], init="normal"),
        _node("x1", "matmul", {"input": "w1", "other": "x"}),
        _node("w2x1", "matmul", {"input": "w2", "other": "x1"}),
        _node("x2", "add", {"input": "x", "other": "w2x1"}),
        _node("s", "add", {"input": "x1", "other": "x2"}),
        _node("x3", "matmul", {"input": "w1", "other": "s"}),
        _node("q", "norm", {"input": "x3"}),
    ]
    return Graph.model_validate({"nodes": nodes, "run": {"seed": SEED, "output": "q", "device": device}})


def dag41_torch(device: str = "cpu") -> Callable[[], torch.Tensor]:
    """The 4.1 DAG's forward+backward on pre-made leaves (drawn as dagrad draws them); returns q."""
    g = torch.Generator().manual_seed(SEED)
    w1 = torch.empty(5, 5).uniform_(0.0, 1.0, generator=g).to(device).requires_grad_()
    w2 = torch.empty(5, 5).uniform_(0.0, 1.0, generator=g).to(device).requires_grad_()
    x = torch.empty(5).normal_(0.0, 1.0, generator=g).to(device)

    def step() -> torch.Tensor:
        w1.grad = w2.grad = None
        x1 = w1 @ x
        x2 = x + w2 @ x1
        x3 = w1 @ (x1 + x2)
        q = x3.norm()
        q.backward()
        return q

    return step


# --- b. the course's Net -----------------------------------------------------------------------

# (node id, shape, fan_in) of Net's parameters, in the order nn.Module would create them.
NET_PARAMS = [
    ("conv1_w", [32, 1, 5, 5], 25),
    ("conv1_b", [32], 25),
    ("conv2_w", [64, 32, 5, 5], 800),
    ("conv2_b", [64], 800),
    ("fc1_w", [200, 256], 256),
    ("fc1_b", [200], 256),
    ("fc2_w", [10, 200], 200),
    ("fc2_b", [10], 200),
]


def net(batch: int, device: str = "cpu") -> Graph:
    """conv1 1->32 k5, max_pool2d(3, 3), relu, conv2 32->64 k5, max_pool2d(2, 2), relu,
    view(-1, 256), fc1 256->200, relu, fc2 200->10, cross_entropy against int64 labels."""
    nodes = [
        _node("x", "input", shape=[batch, 1, 28, 28], init="normal"),
        _node("labels", "input", shape=[batch], dtype="int64", init="uniform", low=0, high=10),
    ]
    for nid, shape, fan_in in NET_PARAMS:  # nn.Conv2d / nn.Linear's default range, U(-1/sqrt(fan_in), +)
        bound = 1 / math.sqrt(fan_in)
        nodes.append(_node(nid, "parameter", shape=shape, init="uniform", low=-bound, high=bound))
    nodes += [
        _node("c1", "conv2d", {"input": "x", "weight": "conv1_w", "bias": "conv1_b"}),
        _node("p1", "max_pool2d", {"input": "c1"}, kernel_size=3, stride=3),
        _node("r1", "relu", {"input": "p1"}),
        _node("c2", "conv2d", {"input": "r1", "weight": "conv2_w", "bias": "conv2_b"}),
        _node("p2", "max_pool2d", {"input": "c2"}, kernel_size=2, stride=2),
        _node("r2", "relu", {"input": "p2"}),
        _node("flat", "view", {"input": "r2"}, shape=[-1, 256]),
        _node("f1", "linear", {"input": "flat", "weight": "fc1_w", "bias": "fc1_b"}),
        _node("r3", "relu", {"input": "f1"}),
        _node("f2", "linear", {"input": "r3", "weight": "fc2_w", "bias": "fc2_b"}),
        _node("loss", "cross_entropy", {"input": "f2", "target": "labels"}),
    ]
    return Graph.model_validate({"nodes": nodes, "run": {"seed": SEED, "output": "loss", "device": device}})


def net_tensors(batch: int, device: str, seed: int) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Net's input batch, labels and parameters, drawn as dagrad draws them for run.seed = seed."""
    g = torch.Generator().manual_seed(seed)
    x = torch.empty(batch, 1, 28, 28).normal_(0.0, 1.0, generator=g).to(device)
    labels = torch.randint(0, 10, (batch,), dtype=torch.int64, generator=g).to(device)
    p: dict[str, torch.Tensor] = {}
    for nid, shape, fan_in in NET_PARAMS:
        bound = 1 / math.sqrt(fan_in)
        p[nid] = torch.empty(shape).uniform_(-bound, bound, generator=g).to(device).requires_grad_()
    return x, labels, p


def net_torch(
    batch: int,
    device: str = "cpu",
    retain_grad: bool = False,
    seeds: Iterator[int] | None = None,
    record_steps: bool = False,
) -> Callable[[], torch.Tensor]:
    """Net's forward+backward in plain PyTorch. On tensors drawn once (seed SEED), as a training
    loop reuses its model; or, given `seeds`, on tensors drawn anew from the next seed at each
    call, as dagrad draws its sources for a new run.seed. With `record_steps`, a post-hook on every
    autograd node keeps a copy of what arrived and what it sent, as a hand-written recorder of the
    backward pass would (dagrad's ?backward_steps=true also takes each one's statistics)."""
    x, labels, p = net_tensors(batch, device, SEED)

    def step() -> torch.Tensor:
        nonlocal x, labels, p
        if seeds is not None:
            x, labels, p = net_tensors(batch, device, next(seeds))
        for t in p.values():
            t.grad = None
        c1 = F.conv2d(x, p["conv1_w"], p["conv1_b"])
        p1 = F.max_pool2d(c1, 3, 3)
        r1 = F.relu(p1)
        c2 = F.conv2d(r1, p["conv2_w"], p["conv2_b"])
        p2 = F.max_pool2d(c2, 2, 2)
        r2 = F.relu(p2)
        flat = r2.view(-1, 256)
        f1 = F.linear(flat, p["fc1_w"], p["fc1_b"])
        r3 = F.relu(f1)
        f2 = F.linear(r3, p["fc2_w"], p["fc2_b"])
        loss = F.cross_entropy(f2, labels)
        if retain_grad:
            for t in (c1, p1, r1, c2, p2, r2, flat, f1, r3, f2, loss):
                t.retain_grad()
        handles = _record_steps(loss, []) if record_steps else []
        loss.backward()
        for h in handles:
            h.remove()
        return loss

    return step


def _record_steps(root: torch.Tensor, kept: list[Any]) -> list[Any]:
    """A post-hook on every autograd node below root, keeping copies of its gradients in `kept`."""
    handles, seen, stack = [], set(), [root.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.extend(nxt for nxt, _ in fn.next_functions)

        def hook(grad_inputs: Any, grad_outputs: Any) -> None:
            kept.append([g.clone() for g in (*grad_outputs, *grad_inputs) if g is not None])

        handles.append(fn.register_hook(hook))
    return handles


# --- c. a generated 200-node graph for validation -------------------------------------------------


def generated(n_nodes: int = 200, width: int = 16, batch: int = 8) -> Graph:
    """A DAG of varied ops (linear, matmul, activations, skip connections, shape round trips,
    softmax, reductions...) ending in a scalar loss, exactly `n_nodes` nodes long.

    Every hidden value is batch x width, so any earlier value can feed a skip connection.
    """
    nodes = [_node("x", "input", shape=[batch, width], init="normal")]
    weights = [f"W{i}" for i in range(4)]
    for w in weights:
        nodes.append(_node(w, "parameter", shape=[width, width], init="uniform", low=-0.25, high=0.25))
    nodes.append(_node("b", "parameter", shape=[width], init="zeros"))
    hidden = ["x"]  # every batch x width value so far
    i = 0
    while len(nodes) < n_nodes - 1:  # the last node is the loss
        h, k = hidden[-1], len(nodes)
        skip = hidden[max(0, len(hidden) - 1 - (i % 7 + 2))]
        w = weights[i % len(weights)]
        kind = i % 12
        nid = f"n{k}"
        if kind == 0:
            new = [_node(nid, "linear", {"input": h, "weight": w, "bias": "b"})]
        elif kind == 1:
            new = [_node(nid, "relu", {"input": h})]
        elif kind == 2:
            new = [_node(nid, "add", {"input": h, "other": skip}, alpha=0.5)]
        elif kind == 3:
            new = [_node(nid, "tanh", {"input": h})]
        elif kind == 4:
            new = [_node(nid, "matmul", {"input": h, "other": w})]
        elif kind == 5:
            new = [_node(nid, "mul", {"input": h, "other": skip})]
        elif kind == 6:
            new = [
                _node(nid, "transpose", {"input": h}, dim0=0, dim1=1),
                _node(f"{nid}t", "transpose", {"input": nid}, dim0=0, dim1=1),
            ]
        elif kind == 7:
            new = [_node(nid, "sigmoid", {"input": h})]
        elif kind == 8:
            new = [
                _node(nid, "reshape", {"input": h}, shape=[width, batch]),
                _node(f"{nid}r", "view", {"input": nid}, shape=[batch, -1]),
            ]
        elif kind == 9:
            new = [_node(nid, "softmax", {"input": h}, dim=-1)]
        elif kind == 10:
            new = [_node(nid, "sub", {"input": h, "other": skip})]
        else:
            new = [_node(nid, "pow", {"input": h}, exponent=2.0)]
        new = new[: n_nodes - 1 - len(nodes)] if len(new) > 1 and len(nodes) + len(new) > n_nodes - 1 else new
        nodes += new
        hidden.append(new[-1]["id"])
        i += 1
    nodes.append(_node("loss", "mean", {"input": hidden[-1]}))
    assert len(nodes) == n_nodes
    return Graph.model_validate({"nodes": nodes, "run": {"seed": SEED, "output": "loss"}})
