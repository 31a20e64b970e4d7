"""Per-sample gradients of a batch: each sample's gradient with respect to each parameter, and
whether their sum (a sum-reduced loss) or their mean (a mean-reduced one) is the batch gradient.

    gradients(graph, settings, sample, batch) -> PerSampleResponse

The batch sources are the sources that do not require grad and whose first dimension is the
batch size (every such `input` and `constant` whose first size is that of the first `input`;
or those named by `batch`). A sample's gradient is that of the loss (run.output, summed when it
is not a scalar) of the same graph fed with that sample alone, as a batch of one: the graph is
compiled at batch size 1 first, so a size that fixes the batch (a view to [12, 256]) is a located
error. The parameters are the sources that require grad, their values as the whole batch's run
drew them. torch.func computes every sample's gradient at once (vmap over grad); where an op
cannot be vmapped (a value check in an op's code, a grad node differentiating inside), a plain
loop over the samples does the same, one backward each, and the answer says which ran.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Literal

import torch
from torch.func import grad as func_grad
from torch.func import vmap

from dagrad.compiler import ShapeMemo, compile_graph
from dagrad.errors import GraphError, GraphErrors
from dagrad.graph_format import Graph
from dagrad.interpreter import Interpreter, located
from dagrad.plan import Plan, PlannedNode
from dagrad.report.payload import payloads
from dagrad.results import PayloadOptions, PerSampleParam, PerSampleResponse
from dagrad.settings import Settings


class _Fed(Interpreter):
    """A forward run whose sources are given tensors (`feed`), not drawn."""

    def __init__(self, plan: Plan, max_seconds: float) -> None:
        super().__init__(plan, max_seconds)
        self.tracked = set()  # no per-use views: the gradients here are of sources only
        self.feed: Mapping[str, torch.Tensor] = {}

    def loss(self, feed: Mapping[str, torch.Tensor]) -> torch.Tensor:
        self.feed, self.values = feed, {}
        for node in self.plan.order:
            self.check_deadline(node.id)
            try:
                self.values[node.id] = self.run_node(node)
            except GraphErrors:
                raise
            except Exception as exc:
                raise located(node, exc) from exc
        return self.values[self.plan.run.output or ""].sum()

    def make_source(self, node: PlannedNode) -> torch.Tensor:
        return self.feed[node.id]


def batch_sources(graph: Graph, plan: Plan, named: list[str] | None) -> list[str]:
    """The sources fed one sample at a time: `named`, checked; else every source that does not
    require grad and whose first size is the first input's."""
    sources = {n.id: n for n in plan.order if n.op.source}
    if named is not None:
        for nid in named:
            node = sources.get(nid)
            if node is None or node.meta.requires_grad or not node.meta.shape:
                why = (
                    "is not a source" if node is None else "requires grad" if node.meta.requires_grad else "is a scalar"
                )
                raise GraphErrors(
                    [
                        GraphError(
                            node=nid,
                            code="run",
                            message=f"a batch source must be a source tensor "
                            f"that does not require grad and has a batch dimension; {nid!r} {why}.",
                        )
                    ]
                )
        return named
    first = next((n for n in plan.order if n.op.name == "input" and n.meta.shape), None)
    if first is None:
        raise GraphErrors(
            [
                GraphError(
                    code="run",
                    message="per-sample gradients need a batch: no input node has a "
                    "first dimension. Name the batch sources (batch=...).",
                )
            ]
        )
    size = first.meta.shape[0]
    return [n.id for n in sources.values() if not n.meta.requires_grad and n.meta.shape and n.meta.shape[0] == size]


def _one_sample(graph: Graph, batch: list[str]) -> Graph:
    """The graph with each batch source at batch size 1 (a literal cut to its first sample)."""
    nodes = []
    for n in graph.nodes:
        if n.id in batch:
            attrs = dict(n.attrs)
            if attrs.get("init") == "values":
                attrs["values"] = attrs["values"][:1]
                attrs.pop("shape", None)
            else:
                attrs["shape"] = [1, *attrs["shape"][1:]]
            n = n.model_copy(update={"attrs": attrs})
        nodes.append(n)
    run = graph.run.model_copy(update={"backward_passes": 1, "retain_graph": None, "wrt": None})
    return graph.model_copy(update={"nodes": nodes, "run": run})


def gradients(
    graph: Graph,
    settings: Settings,
    sample: int = 0,
    batch: list[str] | None = None,
    memo: ShapeMemo | None = None,
) -> PerSampleResponse:
    start = time.perf_counter()
    if graph.run.output is None:
        raise GraphErrors([GraphError(code="run", message="per-sample gradients need a loss: set run.output.")])
    one_pass = graph.model_copy(update={"run": graph.run.model_copy(update={"backward_passes": 1})})
    plan = compile_graph(one_pass, settings, memo)
    fed = batch_sources(graph, plan, batch)
    size = plan.nodes[fed[0]].meta.shape[0]
    if not 0 <= sample < size:
        raise GraphErrors(
            [
                GraphError(
                    code="run",
                    message=f"sample {sample} is out of range: the batch has {size} samples, 0 to {size - 1}.",
                )
            ]
        )
    params = [n.id for n in plan.order if n.op.source and n.meta.requires_grad]
    if not params:
        raise GraphErrors(
            [GraphError(code="run", message="no parameter requires grad: nothing has a per-sample gradient.")]
        )
    elements = size * sum(_numel(n.meta.shape) for n in plan.order if n.id in params)
    if elements > settings.max_tensor_elements:
        raise GraphErrors(
            [
                GraphError(
                    code="limit",
                    message=f"{size} samples × the parameters' elements make "
                    f"{elements:,} per-sample gradient elements, over this server's limit of "
                    f"{settings.max_tensor_elements:,}: use a smaller batch or fewer parameters.",
                )
            ]
        )
    try:
        one = compile_graph(_one_sample(graph, fed), settings, memo)
    except GraphErrors as exc:
        taken = f"taking {', '.join(fed)} as the batch (first dimension {size}), one sample at a time"
        raise GraphErrors([e.model_copy(update={"message": f"{taken}: {e.message}"}) for e in exc.errors]) from exc

    whole = Interpreter(plan, settings.max_run_seconds).run()  # the batch: its sources and its gradient
    values = {nid: v.detach() for nid, v in whole.values.items() if nid in {n.id for n in plan.order if n.op.source}}
    per, method = _per_sample(one, values, fed, params, size, settings)
    report = []
    for nid in params:
        g = per[nid]
        batch_grad = whole.grads[nid].detach() if nid in whole.grads else torch.zeros_like(values[nid])
        report.append((nid, g, batch_grad))
    options = PayloadOptions()
    sample_payloads = payloads(
        [(g[sample], nid) for nid, g, _ in report] + [(values[nid][sample], nid) for nid in fed],
        options,
        settings.default_payload_elements,
        settings.max_payload_elements,
    )
    return PerSampleResponse(
        batch_size=size,
        batch=fed,
        sample=sample,
        method=method,
        inputs=dict(zip(fed, sample_payloads[len(report) :], strict=True)),
        params=[
            PerSampleParam(
                node=nid,
                grad=sample_payloads[i],
                norms=[float(v) for v in g.reshape(size, -1).norm(dim=1)],
                sum_error=_error(g.sum(0), batch_grad),
                mean_error=_error(g.mean(0), batch_grad),
            )
            for i, (nid, g, batch_grad) in enumerate(report)
        ],
        seconds=time.perf_counter() - start,
    )


def _per_sample(
    plan: Plan, values: Mapping[str, torch.Tensor], fed: list[str], params: list[str], size: int, settings: Settings
) -> tuple[dict[str, torch.Tensor], Literal["vmap", "loop"]]:
    """Every sample's gradient of every parameter, [size, *shape] each: by vmap over grad, or by a
    loop where vmap cannot go."""
    interpreter = _Fed(plan, settings.max_run_seconds)
    fixed = {nid: v for nid, v in values.items() if nid not in fed and nid not in params}

    def loss(p: dict[str, torch.Tensor], samples: dict[str, torch.Tensor]) -> torch.Tensor:
        return interpreter.loss({**fixed, **p, **samples})

    weights = {nid: values[nid] for nid in params}
    rows = {nid: values[nid].unsqueeze(1) for nid in fed}  # [size, 1, ...]: one batch of one each
    try:
        found: dict[str, torch.Tensor] = vmap(func_grad(loss), in_dims=(None, 0))(weights, rows)
        return {nid: found[nid].detach() for nid in params}, "vmap"
    except GraphErrors as exc:
        if any(e.code == "limit" for e in exc.errors):  # out of time: no loop would finish either
            raise
    except Exception:  # torch.func's own refusals
        pass
    # An op vmap cannot batch (or one that failed under it): the same, one sample at a time,
    # where an op's real error is raised as evaluate raises it.
    out: dict[str, list[torch.Tensor]] = {nid: [] for nid in params}
    for i in range(size):
        leaves = {nid: v.clone().requires_grad_() for nid, v in weights.items()}
        value = interpreter.loss({**fixed, **leaves, **{nid: rows[nid][i] for nid in fed}})
        grads = torch.autograd.grad(value, list(leaves.values()), allow_unused=True)
        for nid, g in zip(params, grads, strict=True):
            out[nid].append(torch.zeros_like(weights[nid]) if g is None else g)
    return {nid: torch.stack(gs) for nid, gs in out.items()}, "loop"


def _error(ours: torch.Tensor, batch: torch.Tensor) -> float:
    """Largest |ours - batch| relative to the batch gradient's largest element."""
    scale = float(batch.abs().max()) if batch.numel() else 0.0
    return float((ours - batch).abs().max()) / scale if scale else float((ours - batch).abs().max())


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n
