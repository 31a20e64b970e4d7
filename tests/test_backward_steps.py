"""The recorded backward (?backward_steps=true) against PyTorch's own: for every shipped example,
the chapter's code (tests/example_oracles.py) is run again with post-hooks this test registers on
every autograd node before each backward call; dagrad's steps must be the same autograd nodes in
the same order, each with the same gradients arriving and the same ones sent on, slot by slot.
Then the bounds: a recording too large for the answer is refused before the run, saying what to
change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import DAG_4_1
from dagrad import examples
from dagrad.engine import Engine
from dagrad.errors import GraphErrors
from dagrad.graph_format import Graph
from dagrad.ops import REGISTRY
from dagrad.plan import Plan
from dagrad.results import BackwardGraph, BackwardStep, EvaluateResponse, PayloadOptions
from dagrad.settings import Settings
from example_oracles import ORACLES
from graph_builder import decode

FULL = PayloadOptions(backward_steps=True, full=["*"])


# A step as the test's own hooks saw it: the autograd node, what arrived, what it sent per slot.
TorchStep = tuple[Any, tuple[torch.Tensor | None, ...], dict[int, torch.Tensor]]


@contextmanager
def hooked_backward() -> Iterator[list[TorchStep]]:
    """torch.autograd.backward (which Tensor.backward calls) with a post-hook on every autograd
    node reachable from the tensors it differentiates, for the call's length: what each saw."""
    seen: list[TorchStep] = []
    original = torch.autograd.backward

    def backward(tensors: Any, *args: Any, **kwargs: Any) -> None:
        roots = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
        handles = []
        for fn in _reach([t.grad_fn for t in roots]):

            def hook(grad_inputs: Any, grad_outputs: Any, fn: Any = fn) -> None:
                sent = {
                    slot: g.detach().clone()
                    for slot, ((nxt, _), g) in enumerate(zip(fn.next_functions, grad_inputs, strict=False))
                    if nxt is not None and g is not None
                }
                arrived = tuple(None if g is None else g.detach().clone() for g in grad_outputs)
                seen.append((fn, arrived, sent))

            handles.append(fn.register_hook(hook))
        try:
            original(tensors, *args, **kwargs)
        finally:
            for h in handles:
                h.remove()

    torch.autograd.backward = backward  # type: ignore[assignment]
    try:
        yield seen
    finally:
        torch.autograd.backward = original  # type: ignore[assignment]


def _reach(starts: list[Any]) -> list[Any]:
    """Autograd nodes from `starts` through next_functions, depth first, each once."""
    order: list[Any] = []
    seen: set[int] = set()
    stack = list(reversed(starts))
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        order.append(fn)
        stack.extend(nxt for nxt, _ in reversed(fn.next_functions))
    return order


def _dagrad_reach(bg: BackwardGraph, start: int) -> list[int]:
    by_id = {n.id: n for n in bg.nodes}
    order: list[int] = []
    seen: set[int] = set()
    stack = [start]
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        order.append(i)
        stack.extend(e.to for e in reversed(by_id[i].next))
    return order


def correspondence(bg: BackwardGraph, roots: tuple[torch.Tensor, ...]) -> dict[int, Any]:
    """dagrad's autograd node id -> PyTorch's autograd node, walking both graphs alike from each
    root (tests/test_backward_graph.py shows the graphs are the same)."""
    mapping: dict[int, Any] = {}
    theirs = [_reach([r.grad_fn]) for r in roots]
    for start in dict.fromkeys(r.to for r in bg.roots):
        ours = _dagrad_reach(bg, start)
        names = [bg.nodes[i].name for i in ours]
        match = next(t for t in theirs if [type(fn).__name__ for fn in t] == names)
        for i, fn in zip(ours, match, strict=True):
            assert mapping.setdefault(i, fn) is fn, "two roots disagree on an autograd node"
    return mapping


def response_shared(response: EvaluateResponse) -> set[str]:
    """The nodes with per-use contributions: those dagrad gives each use an identity view of."""
    return {nid for nid, n in response.nodes.items() if n.contributions}


def record(name: str) -> tuple[EvaluateResponse, list[TorchStep], tuple[torch.Tensor, ...]]:
    graph = examples.load_all()[name]
    response = Engine().evaluate(graph, FULL)
    with hooked_backward() as seen:
        expected = ORACLES[name](graph.run.seed)
    return response, seen, expected.roots


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_every_examples_steps_are_pytorchs(name: str) -> None:
    response, seen, roots = record(name)
    steps = response.backward_steps
    bg = response.backward_graph
    assert steps is not None
    assert bg is not None
    if response.run.output is None:  # no backward pass: nothing to step through
        assert steps == []
        return
    assert seen, f"the oracle of {name} ran no backward"
    ours_of = correspondence(bg, roots)
    # grad_output 'sum': dagrad's backward starts from ones of the output's shape, where the
    # chapter's code calls y.sum().backward(); that sum's SumBackward0 is not the graph's.
    theirs = {id(fn) for fn in ours_of.values()}
    outside = [type(fn).__name__ for fn, _, _ in seen if id(fn) not in theirs]
    assert outside == (["SumBackward0"] if response.run.grad_output == "sum" else [])
    seen = [s for s in seen if id(s[0]) in theirs]
    assert sorted(type(ours_of[s.node]).__name__ for s in steps) == sorted(type(fn).__name__ for fn, _, _ in seen)
    # The order: PyTorch's. dagrad gives each use of a shared tensor an identity view of it (for
    # each use's share of the gradient), a node autograd schedules by when it was made; an
    # AccumulateGrad, which autograd runs as soon as it is ready, may so run later behind a
    # shared leaf's views than the same code runs it without them, but never before every use
    # has sent it its share. Every other node comes in exactly PyTorch's order.
    shared = {
        fn
        for i, fn in ours_of.items()
        if bg.nodes[i].name == "AccumulateGrad" and bg.nodes[i].node in response_shared(response)
    }
    assert [ours_of[s.node] for s in steps if ours_of[s.node] not in shared] == [
        fn for fn, _, _ in seen if fn not in shared
    ], "another order than PyTorch's"
    if not shared:
        assert [ours_of[s.node] for s in steps] == [fn for fn, _, _ in seen], "another order than PyTorch's"
    for k, step in enumerate(steps):
        if ours_of[step.node] in shared:
            senders = {i for i, s in enumerate(steps) if any(t.to == step.node for t in s.sent)}
            assert senders, "an AccumulateGrad that nothing sent a gradient to"
            assert max(senders) < k, "an AccumulateGrad ran before every use had sent it its share"
    seen_of = {id(fn): (fn, arrived, sent) for fn, arrived, sent in seen}
    assert len(seen_of) == len(seen), "a node ran twice in one pass"
    seen = [seen_of[id(ours_of[s.node])] for s in steps]
    for step, (fn, arrived, sent) in zip(steps, seen, strict=True):
        what = f"{name}: {bg.nodes[step.node].name} of {bg.nodes[step.node].node}"
        assert len(step.grad_outputs) == len(arrived), what
        for ours, theirs in zip(step.grad_outputs, arrived, strict=True):
            assert (ours is None) == (theirs is None), what
            if ours is not None:
                torch.testing.assert_close(decode(ours), theirs, msg=lambda m, w=what: f"{w}, arrived: {m}")
        assert {s.slot: ours_of[s.to] for s in step.sent} == {
            slot: nxt for slot, (nxt, _) in enumerate(fn.next_functions) if slot in sent
        }, what
        for s in step.sent:
            torch.testing.assert_close(decode(s.grad), sent[s.slot], msg=lambda m, w=what: f"{w}, sent: {m}")


def test_a_shared_leaf_receives_each_use_then_the_sum() -> None:
    """The 4.1 DAG's w1 feeds two matmuls: each MvBackward0 sends w1 its share, and w1's
    AccumulateGrad receives their sum, which is w1's .grad."""
    response = Engine().evaluate(Graph.model_validate(DAG_4_1), FULL)
    bg, steps = response.backward_graph, response.backward_steps
    assert bg is not None
    assert steps is not None
    [acc] = [n.id for n in bg.nodes if n.name == "AccumulateGrad" and n.node == "w1"]
    shares = [(bg.nodes[s.node].node, decode(t.grad)) for s in steps for t in s.sent if t.to == acc]
    assert [who for who, _ in shares] == ["x3", "x1"]  # in the order autograd ran them
    [arrived] = [s for s in steps if s.node == acc]
    assert arrived.sent == []
    total = decode(arrived.grad_outputs[0])
    torch.testing.assert_close(total, shares[0][1] + shares[1][1])
    torch.testing.assert_close(total, decode(response.nodes["w1"].grad))
    # Each use's share is also what the node's contributions say.
    by_use = {c.consumer: decode(c.grad) for c in response.nodes["w1"].contributions or []}
    for who, share in shares:
        torch.testing.assert_close(share, by_use[who])


def test_each_pass_is_recorded_and_nothing_changes_after_its_pass() -> None:
    """Two passes, no zero_grad: the second pass's AccumulateGrad adds into the .grad the first one
    may have taken from it in place; the first pass's step must still show the first gradient."""
    doc = {**DAG_4_1, "run": {**DAG_4_1["run"], "backward_passes": 2}}
    response = Engine().evaluate(Graph.model_validate(doc), FULL)
    steps = response.backward_steps
    bg = response.backward_graph
    assert steps is not None
    assert bg is not None
    per_pass = [[s for s in steps if s.backward_pass == i] for i in (0, 1)]
    assert [bg.nodes[s.node].name for s in per_pass[0]] == [bg.nodes[s.node].name for s in per_pass[1]]
    [acc] = [n.id for n in bg.nodes if n.node == "w1" and n.name == "AccumulateGrad"]
    first, second = (decode(next(s for s in p if s.node == acc).grad_outputs[0]) for p in per_pass)
    torch.testing.assert_close(first, second)  # the same gradient each pass
    torch.testing.assert_close(decode(response.nodes["w1"].grad), first + second)


def test_only_the_runs_backward_is_recorded_not_a_grad_nodes() -> None:
    """autograd_grad's grad node calls torch.autograd.grad in the forward pass: not a step."""
    response, seen, _ = record("autograd_grad")
    assert response.backward_steps is not None
    assert len(response.backward_steps) == len(seen)


def test_steps_imply_the_backward_graph_and_are_absent_otherwise() -> None:
    assert PayloadOptions(backward_steps=True).backward_graph is True
    plain = Engine().evaluate(Graph.model_validate(DAG_4_1), PayloadOptions(backward_graph=True))
    assert plain.backward_steps is None


def test_payload_limits_apply_to_steps() -> None:
    """Statistics always, data up to max_elements, as every payload."""
    graph = Graph.model_validate(DAG_4_1)
    response = Engine().evaluate(graph, PayloadOptions(backward_steps=True, max_elements=5))
    steps = response.backward_steps
    assert steps is not None
    payloads = [p for s in steps for p in s.grad_outputs if p is not None] + [t.grad for s in steps for t in s.sent]
    assert {p.numel for p in payloads if p.data is None} == {25}
    assert all(p.data is not None for p in payloads if p.numel <= 5)
    assert all(p.stats.norm is not None for p in payloads)
    assert "max_elements=5" in (next(p for p in payloads if p.data is None).note or "")


def test_a_recording_too_large_is_refused_before_the_run_saying_what_to_change() -> None:
    graph = examples.load_all()["conv_net"]
    plain = Engine(Settings()).evaluate(graph, PayloadOptions())
    assert plain.backward_steps is None
    tight = Engine(Settings(max_response_bytes=12 * 2**20))
    tight.evaluate(graph, PayloadOptions(backward_graph=True))  # fits without the steps
    with pytest.raises(GraphErrors) as caught:
        tight.evaluate(graph, PayloadOptions(backward_steps=True, full=["*"]))
    [error] = caught.value.errors
    assert error.code == "limit"
    assert "the backward passes without every gradient of every step (backward_steps" in error.message
    assert "(max_elements)" in error.message


def test_the_bound_holds_after_the_run_too() -> None:
    """The plan's bound, checked against the steps as they came: never smaller than what came."""
    from dagrad.report.response import _step_bytes, steps_bytes

    engine = Engine()
    for name in ("conv_net", "dag_4_1", "weight_sharing_blah", "second_derivative", "sequential_mlp"):
        graph = examples.load_all()[name]
        compiled = engine.compile(graph)
        for options in (
            PayloadOptions(backward_steps=True),
            FULL,
            PayloadOptions(backward_steps=True, encoding="list"),
        ):
            response = engine.run(compiled, options)
            steps: list[BackwardStep] = response.backward_steps or []
            came = sum(_step_bytes(s, options.encoding) for s in steps)
            assert came <= steps_bytes(compiled.plan, options, engine.settings), name


def test_over_http(client: TestClient) -> None:
    answer = client.post("/api/evaluate?backward_steps=true", json=DAG_4_1)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["backward_graph"] is not None
    steps = [BackwardStep.model_validate(s) for s in body["backward_steps"]]
    names = [body["backward_graph"]["nodes"][s.node]["name"] for s in steps]
    assert names[0] == "LinalgVectorNormBackward0"
    assert names.count("AccumulateGrad") == 2


# --- the rules, chained -----------------------------------------------------------------------------


def _needs(plan: Plan, output: str) -> set[str]:
    """The nodes output is computed from (itself included)."""
    by_id = {n.id: n for n in plan.order}
    needed, stack = set(), [output]
    while stack:
        nid = stack.pop()
        if nid not in needed:
            needed.add(nid)
            stack.extend(e.source for e in by_id[nid].inputs)
    return needed


def _chained(name: str) -> tuple[EvaluateResponse, Plan, dict[str, torch.Tensor], dict[str, dict[str, torch.Tensor]]]:
    """Every node's gradient by the registry's rules alone, from the output's down, each op's
    inputs recomputed by the test in float64 (its sources' values as the run drew them); and what
    each op's rule sent to each of its inputs' nodes."""
    graph = examples.load_all()[name]
    engine = Engine()
    plan = engine.compile(graph).plan
    response = engine.run(engine.compile(graph), FULL)
    values: dict[str, torch.Tensor] = {}
    for node in plan.order:
        if node.op.source:  # in float64: the chain's rounding apart from float32's
            v = decode(response.nodes[node.id].value)
            values[node.id] = v.double() if v.is_floating_point() else v
        else:  # on copies: an in-place op must not change what another op reads
            values[node.id] = node.op.call(node.gather(lambda e: values[e.source].clone()), node.attrs)
    assert plan.run.output is not None
    out = values[plan.run.output]
    grads = {plan.run.output: torch.ones_like(out)}
    sent: dict[str, dict[str, torch.Tensor]] = {}  # consumer -> source -> what its rule sent
    for node in reversed(plan.order):
        g = grads.get(node.id)
        if g is None or node.op.source or not node.meta.requires_grad or node.op.rule is None:
            continue
        rule = node.op.rule.code(node.gather(lambda e: values[e.source]), values[node.id], g, node.attrs)
        for edge in node.inputs:
            source = next(n for n in plan.order if n.id == edge.source)
            if not (source.meta.requires_grad and node.op.sends_grad(edge.port)):
                continue
            part = rule[edge.port]
            part = part[edge.index] if isinstance(part, list) and edge.index is not None else part
            assert isinstance(part, torch.Tensor), f"{node.id}: the rule sends {edge.slot} nothing"
            grads[edge.source] = grads[edge.source] + part if edge.source in grads else part
            to = sent.setdefault(node.id, {})
            to[edge.source] = to[edge.source] + part if edge.source in to else part
    return response, plan, grads, sent


RULED = [
    name
    for name in sorted(ORACLES)
    if (g := examples.load_all()[name]).run.output is not None
    and all(REGISTRY[n.op].rule is not None or REGISTRY[n.op].source for n in g.nodes if n.op != "detach")
]


def test_the_rules_are_chained_on_enough_examples() -> None:
    assert {"dag_4_1", "conv_net", "weight_sharing_blah", "tanh_net", "siamese"} <= set(RULED)
    # The rest differentiate through a grad node, for which no local rule is stated.
    assert set(ORACLES) - set(RULED) - {n for n in ORACLES if examples.load_all()[n].run.output is None} == {
        "autograd_grad",
        "second_derivative",
    }


@pytest.mark.parametrize("name", RULED)
def test_the_product_of_the_rules_is_every_gradient(name: str) -> None:
    """Each op's rule, applied to the gradient of its output, from the output down: every leaf's
    .grad comes out, and what each op's rule sends to each of its inputs is what the recorded
    steps of the autograd nodes that op made sent there."""
    response, plan, grads, sent = _chained(name)
    steps, bg = response.backward_steps, response.backward_graph
    assert steps is not None
    assert bg is not None
    needed = _needs(plan, response.run.output or "")
    for nid, result in response.nodes.items():
        if result.grad is not None and nid in needed:
            _near(grads[nid], decode(result.grad), f"{name}: {nid}")
    leaves = [n for n in plan.order if n.op.source and n.meta.requires_grad and n.id in needed]
    assert leaves, name
    assert all(n.id in grads for n in leaves)
    # Op by op: what the steps sent from the autograd nodes one op made to another node's.
    by_steps: dict[tuple[str, str], torch.Tensor] = {}
    for s in steps:
        for t in s.sent:
            src, dst = bg.nodes[s.node].node, bg.nodes[t.to].node
            if src != dst and src is not None and dst is not None:
                key = (src, dst)
                by_steps[key] = by_steps[key] + decode(t.grad) if key in by_steps else decode(t.grad)
    ruled = {(consumer, source): g for consumer, to in sent.items() for source, g in to.items()}
    assert set(by_steps) == set(ruled), name
    for key, g in ruled.items():
        _near(g, by_steps[key], f"{name}: {key[0]} -> {key[1]}")


def _near(chained: torch.Tensor, ran: torch.Tensor, what: str) -> None:
    """The float64 chain against the run's float32: float32's rounding over sums of thousands of
    terms (a batch of 117 images) allowed, relative to the gradient's size."""
    scale = float(ran.abs().max()) if ran.numel() else 1.0
    tol = 1e-5 if ran.dtype == torch.float64 else 2e-4
    torch.testing.assert_close(
        chained, ran.double(), rtol=tol, atol=tol * max(scale, 1e-3), msg=lambda m: f"{what}: {m}"
    )


def test_a_recorded_gradient_that_is_a_kept_one_is_read_once() -> None:
    """What arrived at x3's MvBackward0 is x3's gradient, and what w1's AccumulateGrad received is
    w1's .grad (the leaf had none before): one payload each, not a second set of statistics."""
    response = Engine().evaluate(Graph.model_validate(DAG_4_1), PayloadOptions(backward_steps=True))
    bg, steps = response.backward_graph, response.backward_steps
    assert bg is not None
    assert steps is not None
    by_owner = {(bg.nodes[s.node].name, bg.nodes[s.node].node): s for s in steps}
    assert by_owner[("MvBackward0", "x3")].grad_outputs[0] is response.nodes["x3"].grad
    assert by_owner[("AccumulateGrad", "w1")].grad_outputs[0] is response.nodes["w1"].grad


@pytest.mark.parametrize("name", ["dag_4_1", "conv_net", "weight_sharing_blah", "second_derivative", "siamese"])
def test_the_answer_with_its_steps_is_within_the_bound(name: str) -> None:
    from dagrad.report.response import response_bytes

    engine = Engine()
    compiled = engine.compile(examples.load_all()[name])
    for options in (PayloadOptions(backward_steps=True), FULL, PayloadOptions(backward_steps=True, encoding="list")):
        actual = len(engine.run(compiled, options).model_dump_json())
        assert actual <= response_bytes(compiled.plan, options, engine.settings), (name, options)


def test_refused_over_http_saying_what_to_change(make_client: Any) -> None:
    c = make_client(max_response_bytes=12 * 2**20)
    body = examples.load_all()["conv_net"].model_dump(mode="json", exclude_defaults=True)
    assert c.post("/api/evaluate?backward_graph=true", json=body).status_code == 200
    refused = c.post("/api/evaluate?backward_steps=true&full=*", json=body)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["code"] == "limit"
    assert "the backward passes without every gradient of every step (backward_steps" in error["message"]
    assert "Record steps" in error["message"]
