"""Training against hand-written torch.optim loops: the same initial tensors (built by the
oracles' own code, tests/example_oracles.py), the same batches (dagrad.data's BatchOrder over
the same dataset), the same optimiser; the parameters after each of the first 3 steps and after
N steps must be equal (torch.equal: the ops run in the same order, so bit for bit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dagrad
from dagrad import examples
from dagrad.data import BatchOrder, load
from dagrad.engine import Engine
from dagrad.graph_format import Graph
from dagrad.training import Trainer, run_to_end
from example_oracles import DigitsNet, mlp_parameters, moons_mlp, sine_mlp

OPTIMIZERS: dict[str, dict[str, Any]] = {
    "sgd_momentum": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4},
    "sgd_nesterov": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True},
    "adam": {"name": "adam", "lr": 0.01},
    "adamw": {"name": "adamw", "lr": 0.01, "betas": [0.8, 0.99]},
}


def torch_optimizer(spec: dict[str, Any], params: list[torch.Tensor]) -> torch.optim.Optimizer:
    kw = {k: v for k, v in spec.items() if k != "name"}
    if "betas" in kw:
        kw["betas"] = tuple(kw["betas"])
    return {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[spec["name"]](params, **kw)


def with_train(name: str, steps: int, optimizer: dict[str, Any], **more: Any) -> Graph:
    g = examples.load(name)
    assert g is not None
    assert g.train is not None
    train = g.train.model_dump() | {"steps": steps, "optimizer": optimizer} | more
    return Graph.model_validate(g.model_dump() | {"train": train})


def compare(
    graph: Graph,
    model: nn.Module,
    names: dict[str, torch.Tensor],
    forward: Callable[[torch.Tensor], torch.Tensor],
    steps: int,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
) -> None:
    """Step dagrad and the torch loop side by side; the parameters equal after steps 1, 2, 3 and the last."""
    train = graph.train
    assert train is not None
    assert train.data is not None
    data = load(train.data.dataset)
    order = BatchOrder(len(data.train_x), train.data.batch_size, train.data.shuffle, graph.run.seed)
    optimizer = torch_optimizer(train.optimizer.model_dump(), list(names.values()))
    trainer = Trainer(graph, dagrad.engine.Settings())
    for step in range(steps):
        rows = order.indices(step)
        loss = loss_fn(forward(data.train_x[rows]), data.train_y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        point = trainer.step()
        assert point.loss == pytest.approx(loss.item(), rel=0, abs=0), f"step {step + 1}: the loss"
        if step < 3 or step == steps - 1:
            for nid, p in names.items():
                assert torch.equal(trainer.state[nid], p.detach()), f"step {step + 1}: {nid}"


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_mlp_steps_equal_a_torch_optim_loop(opt: str) -> None:
    graph = with_train("train_moons_mlp", 25, OPTIMIZERS[opt])
    model = moons_mlp(graph.run.seed)
    compare(graph, model, mlp_parameters(model), model, 25)


@pytest.mark.parametrize("opt", ["sgd_momentum", "adam"])
def test_the_sine_regression_steps_equal_a_torch_optim_loop(opt: str) -> None:
    graph = with_train("train_sine_mlp", 20, OPTIMIZERS[opt])
    model = sine_mlp(graph.run.seed)
    compare(graph, model, mlp_parameters(model), model, 20, F.mse_loss)


def test_the_sine_example_learns_the_curve() -> None:
    # 400 steps of Adam: the test error comes down to about the noise's variance (0.1² = 0.01),
    # and the predicted curve follows sin(x) over [-pi, pi]
    trainer = Engine().trainer(examples.load("train_sine_mlp"))  # type: ignore[arg-type]
    result = run_to_end(trainer, 300)
    last = result.history[-1]
    assert last.test_loss is not None
    assert last.test_loss < 0.02 < result.history[0].loss
    curve = trainer.curve()
    assert curve is not None
    x = torch.tensor(curve.x)
    assert torch.allclose(torch.tensor(curve.y), torch.sin(x), atol=0.2)


@pytest.mark.parametrize("opt", ["sgd_momentum", "adam", "adamw"])
def test_digits_net_steps_equal_a_torch_optim_loop(opt: str) -> None:
    graph = with_train("train_digits_net", 6, OPTIMIZERS[opt])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(graph.run.seed)
        model = DigitsNet()
    names = {name.replace(".", "_"): p for name, p in model.named_parameters()}
    compare(graph, model, names, lambda x: model(x.view(-1, 1, 8, 8)), 6)


def test_zero_grad_off_accumulates_as_torch_does() -> None:
    graph = with_train("train_moons_mlp", 4, OPTIMIZERS["sgd_momentum"], zero_grad=False)
    model = moons_mlp(graph.run.seed)
    train = graph.train
    assert train is not None
    assert train.data is not None
    data = load(train.data.dataset)
    order = BatchOrder(len(data.train_x), 32, True, graph.run.seed)
    optimizer = torch_optimizer(OPTIMIZERS["sgd_momentum"], list(model.parameters()))
    trainer = Trainer(graph, dagrad.engine.Settings())
    for step in range(4):
        rows = order.indices(step)
        F.cross_entropy(model(data.train_x[rows]), data.train_y[rows]).backward()  # never zeroed
        optimizer.step()
        trainer.step()
    assert torch.equal(trainer.state["fc1_weight"], model[0].weight.detach())


@pytest.mark.parametrize(
    ("name", "a", "b"), [("train_descent", 0.4246, -0.4246), ("train_descent_detach", 0.5099, -0.4901)]
)
def test_the_chapters_loops(name: str, a: float, b: float) -> None:
    """The chapter's own loop (autograd.grad and a -= eta * ga under no_grad), written out, and its prints."""
    graph = examples.load(name)
    assert graph is not None
    assert graph.train is not None
    eta = graph.train.optimizer.lr
    ta, tb = torch.tensor(0.5).requires_grad_(), torch.tensor(-0.5).requires_grad_()
    for _ in range(100):
        last = (ta.detach() if "detach" in name else ta) - tb
        loss = (ta - 1) ** 2 + (tb + 1) ** 2 + last**2
        ga, gb = torch.autograd.grad(loss, (ta, tb))
        with torch.no_grad():
            ta -= eta * ga
            tb -= eta * gb
    result = Engine().train(graph)
    values = {n.id: n.attrs.get("values") for n in result.graph.nodes}
    assert torch.tensor(values["a"]) == ta.detach()
    assert torch.tensor(values["b"]) == tb.detach()
    assert (round(ta.item(), 4), round(tb.item(), 4)) == (a, b)
    assert result.steps == 100
    assert len(result.history) == 100


def test_the_trained_graph_evaluates_to_the_trained_state() -> None:
    graph = with_train("train_moons_mlp", 12, OPTIMIZERS["adam"])
    trainer = Trainer(graph, dagrad.engine.Settings())
    for _ in range(12):
        trainer.step()
    trained = trainer.trained_graph()
    assert trained.train == graph.train
    result = Engine().evaluate(trained)
    from graph_builder import decode

    for nid in ("fc1_weight", "fc3_bias"):
        assert torch.equal(decode(result.nodes[nid].value), trainer.state[nid])
    x = decode(result.nodes["x"].value)
    assert torch.equal(x, trainer.last_batch["x"])  # the data nodes hold the last batch
    assert trained.model_dump()["nodes"] != graph.model_dump()["nodes"]


def test_dagrad_train_helper_and_on_step() -> None:
    seen: list[int] = []
    graph = examples.load("train_descent")
    assert graph is not None
    result = dagrad.train(graph, on_step=lambda p: seen.append(p.step))
    assert seen == list(range(1, 101))
    assert result.reason == "finished"


def test_boundary_and_test_figures() -> None:
    graph = with_train("train_moons_mlp", 20, OPTIMIZERS["adam"])
    trainer = Trainer(graph, dagrad.engine.Settings())
    point = trainer.step()
    trainer.measure(point)
    assert point.test_loss is not None
    assert point.test_accuracy is not None
    assert point.accuracy is not None
    boundary = trainer.boundary()
    assert boundary is not None
    assert boundary.size == (48, 48)
    assert len(boundary.label) == 48 * 48
    assert set(boundary.label) <= {0, 1}
    assert all(0.5 <= c <= 1 for c in boundary.confidence)
    assert trainer.curve() is None


def sine_graph(steps: int) -> Graph:
    """A 1 -> 16 -> 1 tanh regression on the sine set, with mse_loss."""
    nodes: list[dict[str, Any]] = [
        {"id": "w1", "op": "parameter", "attrs": {"shape": [16, 1], "init": "uniform", "low": -1, "high": 1}},
        {"id": "b1", "op": "parameter", "attrs": {"shape": [16], "init": "zeros"}},
        {"id": "w2", "op": "parameter", "attrs": {"shape": [1, 16], "init": "uniform", "low": -0.25, "high": 0.25}},
        {"id": "x", "op": "input", "attrs": {"shape": [20, 1], "init": "zeros"}},
        {"id": "y", "op": "input", "attrs": {"shape": [20, 1], "init": "zeros"}},
        {"id": "h", "op": "linear", "inputs": {"input": "x", "weight": "w1", "bias": "b1"}},
        {"id": "t", "op": "tanh", "inputs": {"input": "h"}},
        {"id": "p", "op": "linear", "inputs": {"input": "t", "weight": "w2"}},
        {"id": "loss", "op": "mse_loss", "inputs": {"input": "p", "target": "y"}},
    ]
    train = {"optimizer": {"name": "adam", "lr": 0.02}, "steps": steps,
             "data": {"dataset": {"name": "sine"}, "features": "x", "labels": "y", "batch_size": 20}}  # fmt: skip
    return Graph.model_validate({"nodes": nodes, "run": {"output": "loss"}, "train": train})


def test_a_regression_gets_its_curve_and_no_accuracy() -> None:
    result = Engine().train(sine_graph(150))
    first, last = result.history[0], result.history[-1]
    assert last.loss < first.loss
    assert last.accuracy is None
    assert last.test_loss is not None
    trainer = Trainer(sine_graph(1), dagrad.engine.Settings())
    trainer.step()
    curve = trainer.curve()
    assert curve is not None
    assert len(curve.x) == len(curve.y) == 100
    assert trainer.boundary() is None


def test_the_same_seed_gives_the_same_training() -> None:
    graph = with_train("train_moons_mlp", 15, OPTIMIZERS["adam"], seed=7)
    one, two = Engine().train(graph), Engine().train(graph)
    assert [p.loss for p in one.history] == [p.loss for p in two.history]
    other = Engine().train(with_train("train_moons_mlp", 15, OPTIMIZERS["adam"], seed=8))
    assert [p.loss for p in other.history] != [p.loss for p in one.history]


def test_the_time_limit_ends_a_training_with_its_steps() -> None:
    settings = dagrad.engine.Settings(max_train_seconds=0.3)
    result = Engine(settings).train(with_train("train_moons_mlp", 10000, OPTIMIZERS["adam"]))
    assert result.reason == "time_limit"
    assert 0 < result.steps < 10000
    assert len(result.history) == result.steps
    assert result.history[-1].test_loss is not None  # the last step measured


def test_batch_norm_buffers_and_dropout_train_as_torch_does() -> None:
    """batch_norm's running statistics updated in place every step (and kept in the trained
    graph), dropout's mask drawn from the train section's seed step after step: against
    F.batch_norm and a bernoulli mask from a generator of that seed."""
    graph = with_train("train_moons_mlp", 5, OPTIMIZERS["sgd_momentum"], seed=11)
    doc = graph.model_dump()
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] not in ("t1",)] + [
        {"id": "rm", "op": "constant", "attrs": {"shape": [16], "init": "zeros"}},
        {"id": "rv", "op": "constant", "attrs": {"shape": [16], "init": "ones"}},
        {"id": "bn", "op": "batch_norm", "inputs": {"input": "h1", "running_mean": "rm", "running_var": "rv"}},
        {"id": "t1", "op": "dropout", "attrs": {"p": 0.25}, "inputs": {"input": "bn"}},
    ]
    graph = Graph.model_validate(doc)
    trainer = Trainer(graph, dagrad.engine.Settings())
    start = {k: v.detach().clone() for k, v in trainer.state.items()}
    names = [f"fc{i}_{kind}" for i in (1, 2, 3) for kind in ("weight", "bias")]
    params = {k: start[k].clone().requires_grad_() for k in names}
    rm, rv = start["rm"].clone(), start["rv"].clone()
    optimizer = torch_optimizer(OPTIMIZERS["sgd_momentum"], list(params.values()))
    train = graph.train
    assert train is not None
    assert train.data is not None
    data = load(train.data.dataset)
    order = BatchOrder(len(data.train_x), 32, True, 11)
    g = torch.Generator().manual_seed(11)
    p = params
    for step in range(5):
        rows = order.indices(step)
        h1 = F.linear(data.train_x[rows], p["fc1_weight"], p["fc1_bias"])
        bn = F.batch_norm(h1, rm, rv, training=True)
        mask = torch.empty(bn.shape).bernoulli_(0.75, generator=g)
        t1 = bn * mask.div_(0.75)
        t2 = torch.tanh(F.linear(t1, p["fc2_weight"], p["fc2_bias"]))
        loss = F.cross_entropy(F.linear(t2, p["fc3_weight"], p["fc3_bias"]), data.train_y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert trainer.step().loss == loss.item()
    for k in names:
        assert torch.equal(trainer.state[k], p[k].detach()), k
    assert torch.equal(trainer.state["rm"], rm)
    assert torch.equal(trainer.state["rv"], rv)
    nodes = {n.id: n for n in trainer.trained_graph().nodes}
    assert torch.tensor(nodes["rm"].attrs["values"]).equal(rm)  # the buffer kept as values
