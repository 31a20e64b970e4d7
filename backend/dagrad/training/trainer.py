"""A training run: torch.optim steps on a graph's parameter nodes, through dagrad's own plan.

The tensors are made once, as Run makes them (the original document's plan, its inits and
seed), and kept: parameters, buffers that ops update in place (batch_norm's running stats) and
the optimiser's state live across steps. Each step feeds them, with the step's batch, to an
Interpreter of the step's plan (binding.py), so that forward and backward are the very ops and
numbers of Run; then optimizer.step(), exactly torch.optim's update under no_grad, and
optimizer.zero_grad() unless the train section turns it off (gradients then accumulate, as in
PyTorch). Test figures and the boundary are read in eval mode under no_grad.
"""

from __future__ import annotations

from typing import Any

import torch

from dagrad.compiler import CompileErrors, ShapeMemo, compile_graph
from dagrad.data import BatchOrder
from dagrad.graph_format import Graph, Node
from dagrad.interpreter import Interpreter, Observer
from dagrad.plan import Plan
from dagrad.settings import Settings
from dagrad.train_format import Adam, AdamW, Sgd
from dagrad.training.binding import Bound, bind, loss_is_scalar, mode, parameters, refuse, section, sized
from dagrad.training.results import Boundary, Curve, TrainPoint

GRID = 48  # the decision boundary's cells a side
CURVE_POINTS = 100


def optimizer(spec: Sgd | Adam | AdamW, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    if isinstance(spec, Sgd):
        return torch.optim.SGD(
            params, lr=spec.lr, momentum=spec.momentum, dampening=spec.dampening,
            weight_decay=spec.weight_decay, nesterov=spec.nesterov,
        )  # fmt: skip
    kind = torch.optim.Adam if isinstance(spec, Adam) else torch.optim.AdamW
    return kind(params, lr=spec.lr, betas=spec.betas, eps=spec.eps, weight_decay=spec.weight_decay)


class Trainer:
    def __init__(self, graph: Graph, settings: Settings, memo: ShapeMemo | None = None) -> None:
        self.graph = graph
        self.settings = settings
        self.memo = memo
        self.train = train = section(graph, settings)
        if (
            train.optimizer.name == "sgd"
            and train.optimizer.nesterov
            and (train.optimizer.momentum <= 0 or train.optimizer.dampening != 0)
        ):
            raise refuse(
                "nesterov needs a momentum above 0 and dampening 0 (as torch.optim.SGD).",
                attribute="train.optimizer.nesterov",
            )
        self.loss_id = graph.run.output
        assert self.loss_id is not None
        base = compile_graph(graph, settings, memo)
        loss_is_scalar(base)
        self.parameters = parameters(graph, base, train)
        self.bound: Bound | None = bind(graph, base, train)
        self._eval_plans: dict[int, Plan | None] = {}
        self.predict = train.predict or self._fed_loss()
        if self.predict is not None and self.predict not in {n.id for n in graph.nodes}:
            raise refuse(
                f"train.predict names {self.predict!r}, which is no node of the graph.",
                attribute="train.predict",
                code="unknown_node",
            )
        seed = graph.run.seed if train.seed is None else train.seed
        b = self.bound
        if b is None:
            step_graph = graph.model_copy(update={"run": mode(graph, True, True, self.parameters), "train": None})
            self.order = None
        else:
            rows = train.data.batch_size  # type: ignore[union-attr]
            step_graph = sized(graph, b, rows, True, True)
            step_graph = step_graph.model_copy(update={"run": mode(step_graph, True, True, self.parameters)})
            try:
                self.order = BatchOrder(len(b.data.train_x), rows, train.data.shuffle, seed)  # type: ignore[union-attr]
            except ValueError as exc:
                raise refuse(f"{exc}.", attribute="train.data.batch_size") from exc
        self.step_plan = compile_graph(step_graph, settings, memo)
        self.test_plan = self._eval_plan(len(b.data.test_x)) if b is not None and len(b.data.test_x) else None
        # The tensors, once, as Run makes them: every source of the original plan, in its order.
        maker = Interpreter(base, settings.max_run_seconds)
        self.state: dict[str, torch.Tensor] = {n.id: maker.make_source(n) for n in base.order if n.op.source}
        # Each source as made, to see which an op updated in place (batch_norm's running stats: its
        # kernel writes them without bumping their version counter, so the values are compared).
        bound = (self.bound.features, self.bound.labels) if self.bound is not None else ()
        self.made = {nid: t.detach().clone() for nid, t in self.state.items() if nid not in bound}
        self.optimizer = optimizer(train.optimizer, [self.state[p] for p in self.parameters])
        self.generator = torch.Generator().manual_seed(seed)  # dropout's draws, step after step
        self.steps = 0
        self.last_batch: dict[str, torch.Tensor] = {}

    # --- what the page is told when it starts -------------------------------------------------
    @property
    def task(self) -> str | None:
        return None if self.bound is None else self.bound.data.task

    def data_points(self) -> dict[str, Any] | None:
        """The dataset for the page to draw (2-D and 1-D sets only: a digits set is not drawn)."""
        if self.bound is None or self.bound.data.train_x.shape[1] > 2:
            return None
        d = self.bound.data
        return {
            "train_x": d.train_x.tolist(), "train_y": d.train_y.flatten().tolist(),
            "test_x": d.test_x.tolist(), "test_y": d.test_y.flatten().tolist(),
        }  # fmt: skip

    # --- a step -------------------------------------------------------------------------------
    def step(self, observer: Observer | None = None) -> TrainPoint:
        """One optimiser step. The training's own time budget is the caller's, checked between
        steps (run_to_end, Session): a step started runs to its end within the run limit, so that
        a run out of time keeps its steps."""
        feeds = {**self.state, **self._batch(self.steps)}
        self.last_batch = {k: v for k, v in feeds.items() if k not in self.state or v is not self.state[k]}
        # dropout draws on from the last step's draws (the train section's seed), not from run.seed again
        interpreter = Interpreter(
            self.step_plan, self.settings.max_run_seconds, observer, feeds=feeds, generator=self.generator
        )
        result = interpreter.run()
        if self.steps == 0:
            self._every_parameter_reached()
        loss = float(result.values[self.loss_id].detach())  # type: ignore[index]
        accuracy = self._accuracy(result.values) if self.task == "classification" else None
        self.optimizer.step()
        if self.train.zero_grad:
            self.optimizer.zero_grad(set_to_none=True)
        self.steps += 1
        return TrainPoint(step=self.steps, loss=loss, accuracy=accuracy)

    def measure(self, point: TrainPoint) -> None:
        """The test loss and accuracy of the state as it stands, into `point`."""
        if self.test_plan is None or self.bound is None:
            return
        d = self.bound.data
        values = self._forward(self.test_plan, d.test_x, d.test_y)
        point.test_loss = float(values[self.loss_id].detach())  # type: ignore[index]
        if self.task == "classification":
            point.test_accuracy = _accuracy(values.get(self.predict or ""), d.test_y)

    def boundary(self) -> Boundary | None:
        """A 2-D classifier's labels and confidence over the data's box, with a margin."""
        b = self.bound
        if b is None or b.data.task != "classification" or b.data.train_x.shape[1] != 2 or self.predict is None:
            return None
        both = torch.cat([b.data.train_x, b.data.test_x])
        lo, hi = both.min(0).values, both.max(0).values
        margin = (hi - lo) * 0.1
        lo, hi = lo - margin, hi + margin
        xs = torch.linspace(float(lo[0]), float(hi[0]), GRID)
        ys = torch.linspace(float(lo[1]), float(hi[1]), GRID)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        grid = torch.stack([gx.flatten(), gy.flatten()], 1)
        plan = self._eval_plan(GRID * GRID)
        if plan is None:
            return None
        labels = torch.zeros((GRID * GRID, *b.data.train_y.shape[1:]), dtype=b.data.train_y.dtype)
        out = self._forward(plan, grid, labels).get(self.predict)
        if out is None or out.dim() != 2:
            return None
        if out.shape[1] == 1:  # one logit: the positive class's
            p = torch.sigmoid(out[:, 0])
            label, confidence = (p > 0.5).long(), torch.maximum(p, 1 - p)
        else:
            confidence, label = torch.softmax(out.double(), 1).max(1)
        return Boundary(
            x=(float(lo[0]), float(hi[0])),
            y=(float(lo[1]), float(hi[1])),
            size=(GRID, GRID),
            label=label.tolist(),
            confidence=[round(c, 4) for c in confidence.tolist()],
        )

    def curve(self) -> Curve | None:
        """A 1-D regression's prediction over the data's range."""
        b = self.bound
        if b is None or b.data.task != "regression" or b.data.train_x.shape[1] != 1 or self.predict is None:
            return None
        both = torch.cat([b.data.train_x, b.data.test_x])
        xs = torch.linspace(float(both.min()), float(both.max()), CURVE_POINTS).unsqueeze(1)
        plan = self._eval_plan(CURVE_POINTS)
        if plan is None:
            return None
        out = self._forward(plan, xs, torch.zeros((CURVE_POINTS, *b.data.train_y.shape[1:]))).get(self.predict)
        if out is None or out.numel() != CURVE_POINTS:
            return None
        return Curve(x=xs.flatten().tolist(), y=out.flatten().tolist())

    # --- the trained document -----------------------------------------------------------------
    def trained_graph(self) -> Graph:
        """The document with the state as values: each trained parameter, each buffer an op
        updated in place, and the data nodes holding the last batch; `train` kept."""
        changed = {nid for nid, t in self.made.items() if not torch.equal(self.state[nid], t)}
        written = set(self.parameters) | changed
        nodes = []
        for node in self.graph.nodes:
            t = self.last_batch.get(node.id) if node.id in self.last_batch else None
            if t is None and node.id in written:
                t = self.state[node.id]
            if t is not None:
                node = _with_values(node, t)
            nodes.append(node)
        return self.graph.model_copy(update={"nodes": nodes})

    # --- inside -------------------------------------------------------------------------------
    def _fed_loss(self) -> str | None:
        """The node feeding the loss's `input` port (its logits), if it has one."""
        loss = next(n for n in self.graph.nodes if n.id == self.loss_id)
        fed = loss.inputs.get("input")
        return fed if isinstance(fed, str) else None

    def _eval_plan(self, rows: int) -> Plan | None:
        """The forward plan for `rows` samples in eval mode; None when the graph fixes its batch
        size somewhere (a view to a literal size): then there are no test figures."""
        assert self.bound is not None
        if rows not in self._eval_plans:  # compiled once each: the test set's, the grid's, the curve's
            try:
                graph = sized(self.graph, self.bound, rows, False, False)
                self._eval_plans[rows] = compile_graph(graph, self.settings, self.memo, False)
            except CompileErrors:
                self._eval_plans[rows] = None
        return self._eval_plans[rows]

    def _batch(self, step: int) -> dict[str, torch.Tensor]:
        b = self.bound
        if b is None or self.order is None:
            return {}
        rows = self.order.indices(step)
        return self._data_feeds(b.data.train_x[rows], b.data.train_y[rows], self.step_plan)

    def _data_feeds(self, x: torch.Tensor, y: torch.Tensor, plan: Plan) -> dict[str, torch.Tensor]:
        b = self.bound
        assert b is not None
        fx, fy = plan.nodes[b.features].meta, plan.nodes[b.labels].meta
        return {
            b.features: x.reshape(len(x), *b.feature_shape).to(fx.dtype).to(plan.device),
            b.labels: y.reshape(len(y), *b.label_shape).to(fy.dtype).to(plan.device),
        }

    def _forward(self, plan: Plan, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        feeds = {**self.state, **self._data_feeds(x, y, plan)}
        with torch.no_grad():
            return Interpreter(plan, self.settings.max_run_seconds, feeds=feeds).run().values

    def _accuracy(self, values: dict[str, torch.Tensor]) -> float | None:
        assert self.bound is not None
        return _accuracy(values.get(self.predict or ""), self.last_batch[self.bound.labels])

    def _every_parameter_reached(self) -> None:
        for nid in self.parameters:
            if self.state[nid].grad is None:
                raise refuse(
                    f"no gradient reaches {nid!r} from the loss {self.loss_id!r}: it does not affect the loss "
                    "(or only through a no_grad region or a detach). Wire it into the loss, or leave it out of "
                    "train.parameters.",
                    node=nid,
                    attribute="train.parameters",
                )


def _accuracy(out: torch.Tensor | None, labels: torch.Tensor) -> float | None:
    if out is None or out.dim() != 2 or len(out) != len(labels):
        return None
    guess = (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(1)
    return int((guess == labels.reshape(-1)).sum()) / len(labels)


def _with_values(node: Node, t: torch.Tensor) -> Node:
    attrs = {k: v for k, v in node.attrs.items() if k in ("dtype", "requires_grad")}
    values = t.detach().cpu().tolist()
    return node.model_copy(update={"attrs": {**attrs, "shape": list(t.shape), "init": "values", "values": values}})
