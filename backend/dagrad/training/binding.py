"""Before a training starts: its settings checked, and the graph documents it runs.

Every check here is made before a tensor is allocated, and each failure is a located error:
the node (or the train setting) at fault and what would fix it. The plans a training runs are
compiled from copies of the user's document: the step's (the bound data nodes sized to the
batch, run.training on), and the evaluation's (sized to the test set, or to the boundary's grid,
in eval mode, forward only). Every source of those plans is fed (Interpreter's `feeds`), so
the copies' inits never draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dagrad.data import Dataset, load
from dagrad.errors import GraphError, GraphErrors, fmt_shape
from dagrad.graph_format import Graph, Node
from dagrad.plan import Plan
from dagrad.settings import Settings
from dagrad.train_format import Train


def refuse(message: str, node: str | None = None, attribute: str | None = None, code: str = "value") -> GraphErrors:
    return GraphErrors([GraphError(node=node, attribute=attribute, code=code, message=message)])


def section(graph: Graph, settings: Settings) -> Train:
    """The train section, within the server's limits."""
    train = graph.train
    if train is None:
        raise refuse(
            'the graph has no "train" section: add one, e.g. {"optimizer": {"name": "sgd", "lr": 0.001}, '
            '"steps": 100}.',
            attribute="train",
        )
    if train.steps > settings.max_train_steps:
        raise refuse(
            f"train.steps is {train.steps}; this server allows {settings.max_train_steps}. Train fewer steps.",
            attribute="train.steps",
            code="limit",
        )
    if graph.run.output is None:
        raise refuse("training needs a loss: set run.output to the node to minimise.", attribute="run.output")
    return train


def loss_is_scalar(plan: Plan) -> None:
    output = plan.run.output
    assert output is not None
    shape = plan.nodes[output].meta.shape
    if shape != ():
        raise refuse(
            f"the loss {output!r} has shape {fmt_shape(shape)}; training minimises a scalar. Reduce it "
            "(a sum or mean node, or a loss op's reduction 'mean').",
            node=output,
        )


def parameters(graph: Graph, plan: Plan, train: Train) -> list[str]:
    """The nodes that train: each a source that requires grad, in a floating dtype."""
    sources = {n.id: n for n in plan.order if n.op.source}
    if train.parameters is None:
        chosen = [nid for nid, n in sources.items() if n.meta.requires_grad]
        if not chosen:
            raise refuse(
                "no node requires grad, so nothing can train: set requires_grad on a parameter.",
                attribute="train.parameters",
            )
        return chosen
    known = {n.id for n in graph.nodes}
    for nid in train.parameters:
        if nid not in known:
            raise refuse(
                f"train.parameters names {nid!r}, which is no node of the graph.",
                attribute="train.parameters",
                code="unknown_node",
            )
        node = sources.get(nid)
        if node is None:
            raise refuse(
                f"{nid!r} is not a tensor source (parameter, input or constant): only those train.",
                node=nid,
                attribute="train.parameters",
            )
        if not node.meta.requires_grad:
            raise refuse(
                f"{nid!r} does not require grad, so it cannot train: set its requires_grad.",
                node=nid,
                attribute="requires_grad",
            )
    return list(dict.fromkeys(train.parameters))


@dataclass(frozen=True)
class Bound:
    """The dataset and the nodes it feeds: each node's per-sample shape, as the graph has it."""

    data: Dataset
    features: str
    labels: str
    feature_shape: tuple[int, ...]
    label_shape: tuple[int, ...]


def bind(graph: Graph, plan: Plan, train: Train) -> Bound | None:
    spec = train.data
    if spec is None:
        return None
    nodes = {n.id: n for n in graph.nodes}
    for port, nid, ops in (("features", spec.features, ("input",)), ("labels", spec.labels, ("input", "constant"))):
        where = f"train.data.{port}"
        if nid not in nodes:
            raise refuse(f"{where} names {nid!r}, which is no node of the graph.", attribute=where, code="unknown_node")
        if nodes[nid].op not in ops:
            raise refuse(
                f"{where} must be an {' or '.join(ops)} node; {nid!r} is a {nodes[nid].op}.", node=nid, attribute=where
            )
    try:
        data = load(spec.dataset)
    except (ValueError, ImportError) as exc:
        raise refuse(f"the dataset could not be made: {exc}", attribute="train.data.dataset") from exc
    metas = {n.id: n.meta for n in plan.order}
    fshape = _fit(spec.features, metas[spec.features].shape, tuple(data.train_x.shape[1:]), "features")
    lshape = _fit(spec.labels, metas[spec.labels].shape, tuple(data.train_y.shape[1:]), "labels")
    ldtype = metas[spec.labels].dtype
    if data.task == "classification" and ldtype.is_floating_point:
        raise refuse(
            f"the dataset's labels are class indices (int64); {spec.labels!r} is {str(ldtype)[6:]}: "
            'set its dtype to "int64".',
            node=spec.labels,
            attribute="dtype",
            code="dtype",
        )
    if data.task == "regression" and not ldtype.is_floating_point:
        raise refuse(
            f'the dataset\'s targets are float32; {spec.labels!r} is {str(ldtype)[6:]}: set its dtype to "float32".',
            node=spec.labels,
            attribute="dtype",
            code="dtype",
        )
    return Bound(data, spec.features, spec.labels, fshape, lshape)


def _fit(nid: str, shape: tuple[int, ...], sample: tuple[int, ...], what: str) -> tuple[int, ...]:
    """The node's per-sample shape (its shape but the first, batch, dimension) when it holds as
    many elements as one sample of the dataset: the batch is reshaped to it."""
    if len(shape) >= 1 and math.prod(shape[1:]) == math.prod(sample):
        return shape[1:]
    per = fmt_shape((*sample,))
    raise refuse(
        f"the dataset's {what} are {per} per sample (a batch is [batch_size, {', '.join(map(str, sample))}]), "
        f"but {nid!r} has shape {fmt_shape(shape)}. Give it the shape [batch_size"
        f"{''.join(', ' + str(s) for s in sample)}].",
        node=nid,
        attribute="shape",
        code="shape",
    )


def sized(graph: Graph, bound: Bound, rows: int, training: bool, backward: bool) -> Graph:
    """A copy of the document whose data nodes hold `rows` samples (their init zeros: fed
    anyway), in training or eval mode, with or without the loss's backward."""
    nodes = []
    for node in graph.nodes:
        if node.id in (bound.features, bound.labels):
            per = bound.feature_shape if node.id == bound.features else bound.label_shape
            attrs: dict[str, Any] = {k: v for k, v in node.attrs.items() if k in ("dtype", "requires_grad")}
            node = Node(
                id=node.id,
                op=node.op,
                attrs={**attrs, "shape": [rows, *per], "init": "zeros"},
                inputs=node.inputs,
                label=node.label,
            )
        nodes.append(node)
    return graph.model_copy(update={"nodes": nodes, "run": mode(graph, training, backward), "train": None})


def mode(graph: Graph, training: bool, backward: bool, wrt: list[str] | None = None) -> Any:
    """The run settings of a step (one backward pass to `wrt`) or an evaluation (none)."""
    update: dict[str, Any] = {"backward_passes": 1, "retain_graph": None, "zero_grad": False}
    update["output"] = graph.run.output if backward else None
    update["wrt"] = wrt if backward else None
    update["training"] = training  # the train/eval switch of batch_norm and dropout
    return graph.run.model_copy(update=update)
