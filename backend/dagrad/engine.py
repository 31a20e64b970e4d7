"""The engine: what the REST API, the CLI and scripts call.

One `Engine` is made per app (on `app.state`) and per CLI call, from the Settings. It holds all
state that outlives a request: the run slots that bound the memory of simultaneous runs, and the
shape memo (compiler/shape_memo.py), the one cache, whose size is a Settings field. Each worker
process of the server holds one (api/worker_main.py); the CLI and scripts call it in-process.

    engine.validate(graph)           -> shapes and errors, nothing allocated
    engine.evaluate(graph, options)  -> every node's value and gradient (and, when asked, the
                                        autograd graph: report/backward_graph.py, and the
                                        backward passes step by step: report/backward_steps.py)
    engine.gradcheck(graph)          -> each gradient against finite differences (gradcheck.py)
    engine.per_sample(graph, i)      -> each sample's gradients of a batch (per_sample.py)
    engine.receptive_field(graph, node, index)
                                     -> one element's receptive field upstream (receptive.py)
    engine.train(graph, on_step)     -> the train section's optimiser steps: history and the
                                        trained graph (training/)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from dagrad import gradcheck, per_sample, receptive
from dagrad.admission import RunSlots
from dagrad.compiler import CompileErrors, ShapeMemo, compile_graph
from dagrad.errors import BackwardFailed
from dagrad.graph_format import Graph
from dagrad.interpreter import Interpreter, Observer, Observers
from dagrad.plan import Edge, Plan
from dagrad.report.backward_graph import BackwardGraphRecorder
from dagrad.report.backward_steps import BackwardStepsRecorder
from dagrad.report.response import check_response_size, check_steps_size, evaluate_response_and, validate_response
from dagrad.report.spelled import spelled_nodes
from dagrad.results import (
    EvaluateResponse,
    GradcheckResponse,
    PayloadOptions,
    PerSampleResponse,
    ReceptiveFieldResponse,
    ValidateResponse,
)
from dagrad.settings import Settings
from dagrad.training import Trainer, TrainPoint, TrainResult, run_to_end


@dataclass(frozen=True)
class Compiled:
    plan: Plan
    seconds: float  # what compiling it took


class Engine:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.slots = RunSlots(self.settings.max_concurrent_runs, self.settings.queue_seconds)
        self.memo = ShapeMemo(self.settings.shape_memo_bytes) if self.settings.shape_memo_bytes else None

    def compile(self, graph: Graph, rehearse: bool = True) -> Compiled:
        start = time.perf_counter()
        plan = compile_graph(graph, self.settings, self.memo, rehearse)
        return Compiled(plan, time.perf_counter() - start)

    def validate(self, graph: Graph) -> ValidateResponse:
        """Every node's shape and line of PyTorch; CompileErrors when the graph has errors."""
        response = validate_response(self.compile(graph).plan)
        response.torch = spelled_nodes(graph)
        return response

    def evaluate(
        self, graph: Graph, options: PayloadOptions | None = None, observer: Observer | None = None
    ) -> EvaluateResponse:
        """Compile and run. A graph whose only fault is that its backward fails (rehearsed by the
        compile) is refused as it is, unless the autograd graph was asked for: then it runs, to
        fail in backward as PyTorch fails, and the error carries the autograd graph as the failing
        pass found it (its freed or overwritten saved tensors: BackwardFailed)."""
        options = options or PayloadOptions()
        try:
            compiled = self.compile(graph)
        except CompileErrors as exc:
            if not (options.backward_graph and exc.backward_fails):
                raise
            compiled = self.compile(graph, rehearse=False)
        return self.run(compiled, options, observer)

    def gradcheck(self, graph: Graph, max_elements: int | None = None) -> GradcheckResponse:
        """Every gradient of the graph, run in float64, against central finite differences, in a run slot."""
        self.compile(graph)  # its errors as evaluate gives them, before the float64 copy's
        with self.slots.wait():
            return gradcheck.check(graph, self.settings, max_elements, self.memo)

    def per_sample(self, graph: Graph, sample: int = 0, batch: list[str] | None = None) -> PerSampleResponse:
        """Each sample's gradient of each parameter, sample `sample`'s in full, in a run slot."""
        with self.slots.wait():
            return per_sample.gradients(graph, self.settings, sample, batch, self.memo)

    def receptive_field(self, graph: Graph, node: str, index: list[int]) -> ReceptiveFieldResponse:
        """Element `index` of `node`'s value: its structural receptive field and its gradient's
        support on every node upstream, in a run slot."""
        with self.slots.wait():
            return receptive.receptive_field(graph, self.settings, node, index, self.memo)

    def train(self, graph: Graph, on_step: Callable[[TrainPoint], None] | None = None) -> TrainResult:
        """The train section's steps, within max_train_seconds; on_step sees each step's point."""
        return run_to_end(self.trainer(graph), self.settings.max_train_seconds, on_step)

    def trainer(self, graph: Graph) -> Trainer:
        """A training, checked and set up, its tensors made, to step at the caller's pace."""
        return Trainer(graph, self.settings, self.memo)

    def run(self, compiled: Compiled, options: PayloadOptions, observer: Observer | None = None) -> EvaluateResponse:
        """Run a compiled graph, waiting for a run slot (tensors exist only while it is held),
        unless its answer would be larger than the server sends."""
        check_response_size(compiled.plan, options, self.settings)
        with self.slots.wait():
            return self._run(compiled, options, observer)

    def _run(self, compiled: Compiled, options: PayloadOptions, observer: Observer | None = None) -> EvaluateResponse:
        recorder = BackwardGraphRecorder(compiled.plan) if options.backward_graph else None
        aliases: dict[Edge, torch.Tensor] = {}  # the interpreter's, filled as it runs
        steps = None
        if recorder is not None and options.backward_steps:
            steps = BackwardStepsRecorder(recorder, aliases, options, self.settings)
        watching = [o for o in (observer, recorder, steps) if o is not None]
        observer = watching[0] if len(watching) == 1 else Observers(*watching) if watching else None
        interpreter = Interpreter(compiled.plan, self.settings.max_run_seconds, observer, aliases)
        try:
            result = interpreter.run()
        except BackwardFailed as exc:
            if recorder is not None:
                exc.backward_graph = recorder.graph(interpreter.aliases)
            raise
        finally:
            if steps is not None:
                steps.close()
        more = steps.last_pass() if steps is not None else []
        response, made = evaluate_response_and(compiled.plan, result, options, self.settings, compiled.seconds, more)
        if recorder is not None:
            response.backward_graph = recorder.graph(result.aliases)
        if steps is not None:
            response.backward_steps = steps.finish(made)
            check_steps_size(compiled.plan, options, self.settings, response.backward_steps)
        return response


def validate(graph: Graph, settings: Settings | None = None) -> ValidateResponse:
    """Engine(settings).validate(graph), for scripts and tests."""
    return Engine(settings).validate(graph)


def evaluate(graph: Graph, options: PayloadOptions | None = None, settings: Settings | None = None) -> EvaluateResponse:
    """Engine(settings).evaluate(graph, options), for scripts and tests."""
    return Engine(settings).evaluate(graph, options)


def train(
    graph: Graph, settings: Settings | None = None, on_step: Callable[[TrainPoint], None] | None = None
) -> TrainResult:
    """Engine(settings).train(graph, on_step), for scripts and tests."""
    return Engine(settings).train(graph, on_step)
