"""The autograd graph a run returns (?backward_graph=true) against PyTorch's own: for every shipped
example, the graph the chapter's code builds (tests/example_oracles.py), walked through
next_functions here, has the same autograd nodes, edges, input slots and saved tensors, freed
or kept alike; and each autograd node is attributed to the node whose op created it."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from conftest import DAG_4_1, post_json
from dagrad import examples
from dagrad.engine import Engine
from dagrad.graph_format import Graph
from dagrad.results import BackwardGraph, EvaluateResponse, PayloadOptions
from example_oracles import ORACLES

# A canonical form of the graph below one root: its autograd nodes in depth-first order (each
# one's next_functions in slot order), each as (name, ((index of the next node, slot), ...),
# ((saved field, state), ...)).
Form = tuple[tuple[str, tuple[tuple[int, int], ...], tuple[tuple[str, str], ...]], ...]


def _torch_saved(fn: Any) -> tuple[tuple[str, str], ...]:
    fields = []
    for name in dir(fn):
        if not name.startswith("_saved_"):
            continue
        try:
            value = getattr(fn, name)
        except RuntimeError as exc:
            fields.append((name[len("_saved_") :], "overwritten" if "inplace operation" in str(exc) else "freed"))
            continue
        if isinstance(value, torch.Tensor) or (
            isinstance(value, tuple | list) and any(isinstance(v, torch.Tensor) for v in value)
        ):
            fields.append((name[len("_saved_") :], "kept"))
    return tuple(sorted(fields))


def torch_form(root: torch.Tensor) -> Form:
    """PyTorch's graph below root.grad_fn, walked here."""
    order: list[Any] = []
    index: dict[int, int] = {}
    stack = [root.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in index:
            continue
        index[id(fn)] = len(order)
        order.append(fn)
        stack.extend(nxt for nxt, _ in reversed(fn.next_functions))
    return tuple(
        (
            type(fn).__name__,
            tuple((index[id(nxt)], slot) for slot, (nxt, _) in enumerate(fn.next_functions) if nxt is not None),
            _torch_saved(fn),
        )
        for fn in order
    )


def dagrad_form(graph: BackwardGraph, start: int) -> Form:
    """The same walk over the answer."""
    by_id = {n.id: n for n in graph.nodes}
    order: list[int] = []
    index: dict[int, int] = {}
    stack = [start]
    while stack:
        i = stack.pop()
        if i in index:
            continue
        index[i] = len(order)
        order.append(i)
        stack.extend(e.to for e in reversed(by_id[i].next))
    forms = []
    for i in order:
        n = by_id[i]
        saved = sorted({(s.name.split("[")[0], s.state) for s in n.saved})
        forms.append((n.name, tuple((index[e.to], e.slot) for e in n.next), tuple(saved)))
    return tuple(forms)


def run(graph: Graph) -> EvaluateResponse:
    return Engine().evaluate(graph, PayloadOptions(backward_graph=True))


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_every_examples_backward_graph_is_pytorchs(name: str) -> None:
    graph = examples.load_all()[name]
    response = run(graph)
    bg = response.backward_graph
    assert bg is not None
    expected = ORACLES[name](graph.run.seed)
    assert expected.roots, f"the oracle of {name} names no root"
    ours = sorted(dagrad_form(bg, to) for to in dict.fromkeys(r.to for r in bg.roots))
    theirs = sorted({torch_form(r) for r in expected.roots})
    assert ours == theirs

    # Nothing beyond what the roots reach, each node once.
    reached = {i for to in {r.to for r in bg.roots} for i in _reach(bg, to)}
    assert reached == {n.id for n in bg.nodes}

    # Attribution: a node's grad_fn belongs to it; AccumulateGrad to a leaf that requires grad;
    # a saved tensor named as a node's value has that value's shape and dtype.
    for nid, node in response.nodes.items():
        if node.grad_fn is not None and any(n.node == nid for n in bg.nodes):
            assert node.grad_fn in {n.name for n in bg.nodes if n.node == nid}, nid
    for n in bg.nodes:
        assert n.node is not None, f"autograd node {n.name} was not attributed"
        if n.name == "AccumulateGrad":
            leaf = response.nodes[n.node]
            assert leaf.is_leaf
            assert leaf.requires_grad
        for s in n.saved:
            if s.node is not None:
                assert (s.shape, s.dtype) == (response.nodes[s.node].shape, response.nodes[s.node].dtype)


def _reach(bg: BackwardGraph, start: int) -> set[int]:
    by_id = {n.id: n for n in bg.nodes}
    seen: set[int] = set()
    stack = [start]
    while stack:
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack.extend(e.to for e in by_id[i].next)
    return seen


def test_one_op_may_create_several_autograd_nodes() -> None:
    bg = run(examples.load_all()["linear_batch"]).backward_graph
    assert bg is not None
    made_by = {n.name: n.node for n in bg.nodes}
    assert made_by == {"AddmmBackward0": "y", "TBackward0": "y", "AccumulateGrad": made_by["AccumulateGrad"]}
    assert {n.node for n in bg.nodes if n.name == "AccumulateGrad"} == {"weight", "bias"}
    [addmm] = [n for n in bg.nodes if n.name == "AddmmBackward0"]
    assert [(s.name, s.node) for s in addmm.saved] == [("mat1", "x")]


def test_the_same_weights_give_backward_graphs_of_different_size() -> None:
    """The chapter's blah(k, x): k=1 for u, k=3 for v, one w. The forward graph has one w; the
    backward graph has a chain per application."""
    response = run(examples.load_all()["weight_sharing_blah"])
    bg = response.backward_graph
    assert bg is not None
    u = next(n.id for n in bg.nodes if n.node == "u")
    v = next(n.id for n in bg.nodes if n.node == "v")
    w = torch.rand(3, 10, 10, requires_grad=True)
    x = torch.rand(10)
    u_t = torch.tanh(w[0] @ x)
    v_t = x
    for i in range(3):
        v_t = torch.tanh(w[i] @ v_t)
    u_t.dot(v_t).backward()
    assert dagrad_form(bg, u) == torch_form(u_t)
    assert dagrad_form(bg, v) == torch_form(v_t)
    assert (len(_reach(bg, u)), len(_reach(bg, v))) == (4, 10)  # tanh, mv, select per step; one AccumulateGrad
    [acc] = [n for n in bg.nodes if n.name == "AccumulateGrad"]
    assert acc.node == "w"


def test_detach_cuts_a_branch_from_the_backward_graph_only() -> None:
    response = run(examples.load_all()["detach"])
    bg = response.backward_graph
    assert bg is not None
    assert "a_detached" in response.nodes  # the forward graph keeps it
    assert not [n for n in bg.nodes if n.node == "a_detached"]
    [sub] = [n for n in bg.nodes if n.node == "ad_minus_b"]
    assert [bg.nodes[e.to].node for e in sub.next] == ["b"]  # a's edge is gone, slot 1 (b) stays
    assert [e.slot for e in sub.next] == [1]


def test_shared_uses_leave_no_trace_of_dagrads_own_views() -> None:
    """dagrad gives each use of a shared tensor an identity view (for per-use contributions);
    the backward graph is the user's: w1 of the 4.1 DAG feeds its two MvBackward0 directly."""
    bg = run(Graph.model_validate(DAG_4_1)).backward_graph
    assert bg is not None
    assert not [n for n in bg.nodes if n.name in {"ViewBackward0", "AliasBackward0"}]
    [acc] = [n for n in bg.nodes if n.node == "w1"]
    into = [n.node for n in bg.nodes if any(e.to == acc.id for e in n.next)]
    assert sorted(into) == ["x1", "x3"]


def test_saved_tensors_are_kept_while_a_later_pass_needs_them() -> None:
    doc = {**DAG_4_1, "run": {**DAG_4_1["run"], "backward_passes": 2}}
    bg = run(Graph.model_validate(doc)).backward_graph
    assert bg is not None
    # The last pass frees them (retain_graph=False on it), as PyTorch does.
    assert {s.state for n in bg.nodes for s in n.saved} == {"freed"}
    doc = {**DAG_4_1, "run": {"seed": 0}}  # no backward: all kept
    bg = run(Graph.model_validate(doc)).backward_graph
    assert bg is not None
    assert bg.roots == []  # nothing to start backward from
    assert bg.nodes == []


def test_saved_tensors_are_named_by_identity_not_by_storage() -> None:
    """a.detach() shares a's storage, shape and strides; mul saves a (to differentiate w), and the
    answer names a, not the detach node made after it. The 4.1 DAG's w1 feeds two ops (each use
    through dagrad's own view of it): what MvBackward0 saved is still w1."""
    doc = {
        "nodes": [
            {"id": "a", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "w", "op": "parameter", "attrs": {"shape": [3]}},
            {"id": "ad", "op": "detach", "inputs": {"input": "a"}},
            {"id": "m", "op": "mul", "inputs": {"input": "a", "other": "w"}},
            {"id": "n", "op": "mul", "inputs": {"input": "ad", "other": "w"}},
            {"id": "s", "op": "add", "inputs": {"input": "m", "other": "n"}},
        ],
        "run": {"output": "s", "grad_output": "ones"},
    }
    bg = run(Graph.model_validate(doc)).backward_graph
    assert bg is not None
    saved = {(n.node, t.name): t.node for n in bg.nodes for t in n.saved}
    a, w = torch.rand(3, requires_grad=True), torch.rand(3, requires_grad=True)
    ad = a.detach()
    m, n = a * w, ad * w
    names = {id(a): "a", id(w): "w", id(ad): "ad"}  # PyTorch hands back the very tensors it saved
    expected = {
        (node, field): names[id(t)]
        for node, fn in (("m", m.grad_fn), ("n", n.grad_fn))
        for field in ("self", "other")
        if (t := getattr(fn, f"_saved_{field}")) is not None
    }
    assert expected == {("m", "self"): "a", ("m", "other"): "w", ("n", "self"): "ad"}
    assert saved == expected

    bg = run(Graph.model_validate(DAG_4_1)).backward_graph
    assert bg is not None
    [x3] = [n for n in bg.nodes if n.node == "x3"]
    assert {t.name: t.node for t in x3.saved} == {"self": "w1", "vec": "s"}


def test_a_value_changed_in_place_after_it_was_saved_is_shown_overwritten() -> None:
    """relu_ overwrites what sigmoid saved; a backward that asks only for w's gradient never goes
    through sigmoid, so the run succeeds, and the graph shows the saved result overwritten, as
    PyTorch's own graph of the same code does."""
    doc = {
        "nodes": [
            {"id": "x", "op": "parameter", "attrs": {"shape": [4]}},
            {"id": "w", "op": "parameter", "attrs": {"shape": [4]}},
            {"id": "s", "op": "sigmoid", "inputs": {"input": "x"}},
            {"id": "r", "op": "relu", "attrs": {"inplace": True}, "inputs": {"input": "s"}},
            {"id": "m", "op": "mul", "inputs": {"input": "r", "other": "w"}},
            {"id": "t", "op": "sum", "inputs": {"input": "m"}},
        ],
        "run": {"output": "t", "wrt": ["w"]},
    }
    bg = run(Graph.model_validate(doc)).backward_graph
    assert bg is not None
    x, w = torch.rand(4, requires_grad=True), torch.rand(4, requires_grad=True)
    t = (torch.relu_(torch.sigmoid(x)) * w).sum()
    torch.autograd.backward(t, inputs=[w])
    assert dagrad_form(bg, bg.roots[0].to) == torch_form(t)
    [sig] = [n for n in bg.nodes if n.name == "SigmoidBackward0"]
    assert [(s.name, s.node, s.state) for s in sig.saved] == [("result", "s", "overwritten")]


def test_asked_for_over_http_and_absent_otherwise(client: TestClient) -> None:
    plain = post_json(client, "/api/evaluate", DAG_4_1)
    assert plain.status_code == 200
    assert plain.json()["backward_graph"] is None
    asked = client.post("/api/evaluate?backward_graph=true", json=DAG_4_1)
    assert asked.status_code == 200, asked.text
    bg = BackwardGraph.model_validate(asked.json()["backward_graph"])
    assert bg.roots[0].node == "q"
    assert {n.name for n in bg.nodes} == {"LinalgVectorNormBackward0", "MvBackward0", "AddBackward0", "AccumulateGrad"}


def test_saved_states_read_fast_agree_with_pytorchs_own_fields() -> None:
    """The recorder reads a saved tensor's state from PyTorch's SavedTensor (`_raw_saved_*`),
    without the exception its field raises once freed: kept, freed and overwritten must come out
    as reading the field itself says, for single tensors and for a list of them."""
    from dagrad.autograd import saved_state
    from dagrad.report.backward_graph import _Saved, _state

    def states(fns: list[Any]) -> list[tuple[str, str, str | None]]:
        found = []
        for fn in fns:
            for field in [n for n in dir(fn) if n.startswith("_saved_")]:
                truth = saved_state(fn, field)
                if truth is None:
                    continue
                value = getattr(fn, field) if truth == "kept" else None
                indices = range(len(value)) if isinstance(value, tuple | list) else [None]
                for i in indices:
                    found.append((type(fn).__name__, _state(fn, _Saved(field, i, [], "", None, None)), truth))
        return found

    x = torch.rand(5, requires_grad=True)
    t = torch.tanh(x)
    m = t * x
    picked = m[torch.tensor([0, 2])]  # IndexBackward0 saves a list of index tensors
    loss = picked.sum()
    fns = [t.grad_fn, m.grad_fn, picked.grad_fn]
    before = states(fns)
    assert {s for _, s, _ in before} == {"kept"}
    loss.backward()
    after = [(name, fast, truth) for name, fast, truth in states(fns)]
    assert [fast for _, fast, _ in after] == [truth for _, _, truth in after]
    assert {truth for _, _, truth in after} == {"freed"}
    assert any(name == "IndexBackward0" for name, _, _ in after)

    y = torch.sigmoid(torch.rand(3, requires_grad=True))
    torch.relu_(y)
    [(name, fast, truth)] = states([y.grad_fn.next_functions[0][0]])
    assert (name, fast, truth) == ("SigmoidBackward0", "overwritten", "overwritten")
