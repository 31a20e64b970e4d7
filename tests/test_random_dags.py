"""Random DAGs (Hypothesis): dagrad against a direct PyTorch evaluation of the same graph.

Each example draws 2-4 literal sources of compatible shapes, then 1-15 ops, each consuming
earlier nodes (elementwise unary and binary ops, matmul, activations, reductions, reshape and
transpose), and ends with a sum to a scalar loss. The test evaluates the same DAG in PyTorch as it
builds it, so it only adds ops whose inputs and result stay finite, and then compares the value
and the gradient of every node (leaves and intermediate results alike) with dagrad's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_builder import GraphBuilder, decode

DTYPE = torch.float64
Tensor = torch.Tensor

UNARY: dict[str, Callable[[Tensor], Tensor]] = {
    "neg": lambda x: -x,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
}
BINARY = ("add", "sub", "mul", "div")
# Drawn with these weights: each unary op once, each binary op, matmul and the shape ops more often.
KINDS = (*UNARY, *BINARY, *BINARY, "pow", "matmul", "matmul", "matmul", "sum", "mean", "reshape", "transpose")


def _unary_ok(op: str, x: Tensor) -> bool:
    if op in ("log", "sqrt"):
        return x.numel() > 0 and bool(x.min() > 0.05)
    if op == "exp":
        return bool(x.max() < 4) if x.numel() else True
    return True


@dataclass
class Dag:
    builder: GraphBuilder
    values: dict[str, Tensor]  # node id -> the PyTorch reference tensor

    def add(self, nid: str, t: Tensor) -> None:
        if t.requires_grad and not t.is_leaf:
            t.retain_grad()
        self.values[nid] = t


def _factorizations(n: int) -> list[list[int]]:
    shapes = [[n], [-1]]
    shapes += [[d, n // d] for d in range(1, n + 1) if n % d == 0]
    shapes += [[d, -1] for d in range(1, n + 1) if n % d == 0]
    return shapes


def _draw_step(data: st.DataObject, dag: Dag, k: int) -> bool:
    """Draw one op on earlier nodes; add it to both graphs and return True, or False if it does not fit."""
    env = dag.values
    ids = list(reversed(env))  # newest first: simpler draws build deeper chains
    kind = data.draw(st.sampled_from(KINDS), label="op")
    nid = f"n{k}"
    attrs: dict[str, Any] = {}
    inputs: dict[str, str] = {}

    if kind in UNARY:
        xs = [i for i in ids if _unary_ok(kind, env[i].detach())]
        if not xs:
            return False
        x = data.draw(st.sampled_from(xs), label="input")
        inputs = {"input": x}
        out = UNARY[kind](env[x])
    elif kind == "pow":
        x = data.draw(st.sampled_from(ids), label="input")
        exponent = data.draw(st.sampled_from([2.0, 3.0]), label="exponent")
        attrs, inputs = {"exponent": exponent}, {"input": x}
        out = torch.pow(env[x], exponent)
    elif kind in BINARY:
        a = data.draw(st.sampled_from(ids), label="input")

        def fits(b: str) -> bool:
            try:
                shape = torch.broadcast_shapes(env[a].shape, env[b].shape)
            except RuntimeError:
                return False
            if shape not in (env[a].shape, env[b].shape):
                return False
            return kind != "div" or bool(env[b].detach().abs().min() > 0.1)

        others = [b for b in ids if fits(b)]
        if not others:
            return False
        b = data.draw(st.sampled_from(others), label="other")
        inputs = {"input": a, "other": b}
        if kind in ("add", "sub"):
            alpha = data.draw(st.sampled_from([1.0, 1.0, -0.5, 2.0]), label="alpha")
            if alpha != 1.0:
                attrs = {"alpha": alpha}
            out = (torch.add if kind == "add" else torch.sub)(env[a], env[b], alpha=alpha)
        else:
            out = env[a] * env[b] if kind == "mul" else env[a] / env[b]
    elif kind == "matmul":
        pairs = [
            (a, b)
            for a in ids
            for b in ids
            if env[a].dim() in (1, 2) and env[b].dim() in (1, 2) and env[a].shape[-1] == env[b].shape[0]
        ]
        if not pairs:
            return False
        a, b = data.draw(st.sampled_from(pairs), label="matmul operands")
        inputs = {"input": a, "other": b}
        out = env[a] @ env[b]
    elif kind in ("sum", "mean"):
        x = data.draw(st.sampled_from(ids), label="input")
        t = env[x]
        dims: list[int | None] = [None, *range(-t.dim(), t.dim())]
        dim = data.draw(st.sampled_from(dims), label="dim")
        inputs = {"input": x}
        if dim is None:
            out = t.sum() if kind == "sum" else t.mean()
        else:
            keepdim = data.draw(st.booleans(), label="keepdim")
            attrs = {"dim": dim, "keepdim": keepdim}
            out = torch.sum(t, dim, keepdim=keepdim) if kind == "sum" else torch.mean(t, dim, keepdim=keepdim)
    elif kind == "reshape":
        x = data.draw(st.sampled_from(ids), label="input")
        shape = data.draw(st.sampled_from(_factorizations(env[x].numel())), label="shape")
        attrs, inputs = {"shape": shape}, {"input": x}
        out = env[x].reshape(shape)
    else:  # transpose
        xs = [i for i in ids if env[i].dim() >= 2]
        if not xs:
            return False
        x = data.draw(st.sampled_from(xs), label="input")
        d0, d1 = data.draw(st.sampled_from([(0, 1), (1, 0), (-1, 0), (0, -1)]), label="dims")
        attrs, inputs = {"dim0": d0, "dim1": d1}, {"input": x}
        out = torch.transpose(env[x], d0, d1)

    if not bool(torch.isfinite(out).all()) or (out.numel() and bool(out.detach().abs().max() > 1e6)):
        return False
    dag.builder.op(kind, nid, attrs=attrs, **inputs)
    dag.add(nid, out)
    return True


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_dag_matches_torch(data: st.DataObject) -> None:
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    gen = torch.Generator().manual_seed(seed)
    a, b, c = data.draw(st.tuples(*[st.integers(1, 4)] * 3), label="sizes")
    shapes = [(a, b), (b, c), (a, c), (b,), (c,), (a,), ()]

    dag = Dag(GraphBuilder(seed=seed % 1000, dtype="float64"), {})
    n_sources = data.draw(st.integers(2, 4), label="sources")
    for i in range(n_sources):
        shape = data.draw(st.sampled_from(shapes), label="shape")
        requires_grad = i == 0 or data.draw(st.booleans(), label="requires_grad")
        t = (torch.rand(shape, dtype=DTYPE, generator=gen) * 2 - 1).requires_grad_(requires_grad)
        dag.builder.tensor(f"s{i}", t)
        dag.add(f"s{i}", t)

    n_ops = data.draw(st.integers(1, 15), label="ops")
    added = sum(_draw_step(data, dag, k) for k in range(n_ops))
    if not added:  # always at least one op
        dag.builder.op("tanh", "n_tanh", input="s0")
        dag.add("n_tanh", torch.tanh(dag.values["s0"]))
    last = list(dag.values)[-1]
    if not dag.values[last].requires_grad:  # the loss must depend on something that requires grad
        dag.builder.op("sum", "n_s0", input="s0")
        dag.add("n_s0", dag.values["s0"].sum())
        dag.builder.op("mul", "n_grad", input=last, other="n_s0")
        dag.add("n_grad", dag.values[last] * dag.values["n_s0"])
        last = "n_grad"
    dag.builder.op("sum", "loss", input=last)
    dag.add("loss", dag.values[last].sum())
    dag.values["loss"].backward()

    response = dag.builder.run(output="loss").evaluate()
    assert set(response.nodes) == set(dag.values)
    for nid, t in dag.values.items():
        node = response.nodes[nid]
        torch.testing.assert_close(decode(node.value), t.detach(), msg=lambda m, nid=nid: f"value of {nid}: {m}")
        assert node.requires_grad == t.requires_grad, nid
        assert node.is_leaf == t.is_leaf, nid
        expected = t.grad if (t.is_leaf or t.retains_grad) else None
        if expected is None:
            assert node.grad is None, f"{nid}: dagrad gives a gradient, torch none"
        else:
            assert node.grad is not None, f"{nid}: dagrad gives no gradient, torch {expected}"
            torch.testing.assert_close(decode(node.grad), expected, msg=lambda m, nid=nid: f"grad of {nid}: {m}")
