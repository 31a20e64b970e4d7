"""The engine's one cache, the shape memo (compiler/shape_memo.py): one Engine, as one server
holds, runs graph after graph, each renamed, reseeded, with special floats in its attributes,
with other dims, dtypes and requires_grad. Every answer, the validated shapes and the values and
gradients, must be PyTorch's, as it is from an engine without the memo."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from conftest import DAG_4_1, torch_dag_4_1
from dagrad.engine import Engine
from dagrad.graph_format import Graph
from dagrad.results import PayloadOptions
from dagrad.settings import Settings
from graph_builder import GraphBuilder, decode

SPECIAL = [math.inf, -math.inf, math.nan, 0.0, -0.0, 2.0]


@pytest.fixture(params=["memo", "no memo"], scope="module")
def engine(request: pytest.FixtureRequest) -> Engine:
    """The same engine for every test of the module, as a server keeps it between students."""
    return Engine(Settings(shape_memo_bytes=8 * 2**20 if request.param == "memo" else 0))


def chain(
    ids: dict[str, str], seed: int = 0, alpha: float = 1.0, exponent: float = 2.0, fill: float = 0.5, **run: Any
) -> tuple[Graph, dict[str, torch.Tensor]]:
    """p (normal) -> e = exp(p + alpha * c), c full of `fill` -> w = e ** exponent -> s = sum(w, dim):
    the graph, and PyTorch's own values (and p's gradient) by hand."""
    dtype = run.pop("dtype", "float64")
    dim = run.pop("dim", None)
    rg = run.pop("requires_grad", True)
    p, c, e, w, s = (ids[k] for k in "pcews")
    b = GraphBuilder(seed=seed, dtype=dtype)
    b.parameter(p, shape=[2, 3], init="normal", requires_grad=rg)
    b.constant(c, shape=[3], init="full", value=fill)
    b.op("add", e + "_in", attrs={"alpha": alpha}, input=p, other=c)
    b.op("exp", e, input=e + "_in")
    b.op("pow", w, attrs={"exponent": exponent}, input=e)
    b.op("sum", s, attrs={} if dim is None else {"dim": dim}, input=w)
    if rg and dim is None:
        b.run(output=s)

    tdtype = getattr(torch, dtype)
    pt = torch.empty(2, 3, dtype=tdtype).normal_(generator=torch.Generator().manual_seed(seed)).requires_grad_(rg)
    et = torch.exp(pt + alpha * torch.full((3,), fill, dtype=tdtype))
    wt = et**exponent
    st = wt.sum() if dim is None else wt.sum(dim=dim)
    expected = {p: pt.detach(), e: et.detach(), w: wt.detach(), s: st.detach()}
    if rg and dim is None:
        st.backward()
        assert pt.grad is not None
        expected[p + ".grad"] = pt.grad
    return b.graph(), expected


def check(engine: Engine, graph: Graph, expected: dict[str, torch.Tensor]) -> None:
    validated = engine.validate(graph)
    nodes = engine.evaluate(graph, PayloadOptions(full=["*"])).nodes
    for key, want in expected.items():
        nid, _, grad = key.partition(".")
        if not grad:
            meta = validated.nodes[nid]
            assert meta.shape == list(want.shape), nid
            assert meta.dtype == str(want.dtype).removeprefix("torch."), nid
        got = decode(nodes[nid].grad if grad else nodes[nid].value)
        torch.testing.assert_close(got, want, equal_nan=True, msg=lambda m, key=key: f"{key}: {m}")
    for nid, meta in validated.nodes.items():
        assert meta.requires_grad == nodes[nid].requires_grad, nid


NAMES = {k: k for k in "pcews"}


def test_renamed_and_reseeded(engine: Engine) -> None:
    check(engine, *chain(NAMES))
    check(engine, *chain({k: k.upper() + "_renamed" for k in "pcews"}))
    check(engine, *chain(NAMES, seed=7))
    check(engine, *chain({k: "n" + k for k in "pcews"}, seed=8))


@pytest.mark.parametrize("value", SPECIAL, ids=repr)
def test_special_floats_in_every_float_attribute(engine: Engine, value: float) -> None:
    check(engine, *chain(NAMES, alpha=value))
    check(engine, *chain(NAMES, exponent=value))
    check(engine, *chain(NAMES, fill=value))


def test_what_changes_a_shape_dtype_or_requires_grad(engine: Engine) -> None:
    check(engine, *chain(NAMES, dim=0))
    check(engine, *chain(NAMES, dim=1))
    check(engine, *chain(NAMES, dim=-1))
    check(engine, *chain(NAMES, dtype="float32"))
    check(engine, *chain(NAMES, requires_grad=False))
    check(engine, *chain(NAMES))


def test_infinity_then_minus_infinity_fed_to_exp(engine: Engine) -> None:
    # exp(inf) = inf, exp(-inf) = 0: the second answer must not be the first's.
    for value in (math.inf, -math.inf, math.nan):
        graph = Graph.model_validate(
            {
                "nodes": [
                    {"id": "c", "op": "constant", "attrs": {"shape": [2], "init": "full", "value": value}},
                    {"id": "e", "op": "exp", "inputs": {"input": "c"}},
                ]
            }
        )
        got = decode(engine.evaluate(graph, PayloadOptions(full=["*"])).nodes["e"].value)
        torch.testing.assert_close(got, torch.exp(torch.full((2,), value)), equal_nan=True)


def test_a_parameter_renamed(engine: Engine) -> None:
    for name in ("a", "b", "a"):
        graph = Graph.model_validate({"nodes": [{"id": name, "op": "parameter", "attrs": {"shape": [3]}}]})
        got = decode(engine.evaluate(graph, PayloadOptions(full=["*"])).nodes[name].value)
        torch.testing.assert_close(got, torch.empty(3).normal_(generator=torch.Generator().manual_seed(0)))


def test_the_course_dag_with_w1_renamed(engine: Engine) -> None:
    renamed = Graph.model_validate_json(Graph.model_validate(DAG_4_1).model_dump_json().replace('"w1"', '"W1"'))
    expected = torch_dag_4_1()
    for graph, w1 in ((Graph.model_validate(DAG_4_1), "w1"), (renamed, "W1"), (Graph.model_validate(DAG_4_1), "w1")):
        nodes = engine.evaluate(graph, PayloadOptions(full=["*"])).nodes
        torch.testing.assert_close(decode(nodes["q"].value), expected["q"])
        torch.testing.assert_close(decode(nodes[w1].grad), expected["w1.grad"])


def test_the_memo_stays_within_its_bytes() -> None:
    # exp of inputs with more and more dimensions: every key different, and longer each time.
    engine = Engine(Settings(shape_memo_bytes=16 * 1024))
    assert engine.memo is not None
    for k in range(1, 60):
        shape = [1] * k + [3]
        graph = Graph.model_validate(
            {
                "nodes": [
                    {"id": "x", "op": "input", "attrs": {"shape": shape}},
                    {"id": "e", "op": "exp", "inputs": {"input": "x"}},
                    {"id": "s", "op": "sum", "attrs": {"dim": -1}, "inputs": {"input": "e"}},
                ]
            }
        )
        nodes = engine.validate(graph).nodes
        assert nodes["s"].shape == list(torch.empty(shape).exp().sum(dim=-1).shape)
        assert 0 < engine.memo.bytes <= 16 * 1024
