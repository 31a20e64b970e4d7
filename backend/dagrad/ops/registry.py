"""The op registry: the single source of truth about every op.

An op is one `OpDef`: its input ports, its attributes (a pydantic model whose
field names are the torch function's own argument names), its docstring and
the torch function that runs it, its local backward rule beside it (`rule`: code and a
formula per port, or None where none is stated), and what a call costs (`cost`,
`backward_cost`, `extra_bytes`: the estimates the server's limits read before anything is
allocated).
Validation, execution, `GET /api/ops` (the editor's palette), the docs and the
generated tests all read this registry; adding an op is one `register(...)` call
in the module of its category.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict

from dagrad.ops.receptive_rules import ReceptiveRule
from dagrad.ops.spelling import SpellFn, Wiring

Category = Literal["sources", "arithmetic", "activations", "reductions", "shape", "layers", "losses", "autograd"]

# Inputs as the op's function receives them: one tensor per port, or a list for list ports.
Inputs = Mapping[str, torch.Tensor | list[torch.Tensor] | None]


class Attrs(BaseModel):
    """Base of every attribute model: unknown attributes are errors, not silently dropped, and a
    validated model cannot be changed (a plan that holds it may be read by several threads)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoAttrs(Attrs):
    """The op takes no attributes."""


@dataclass(frozen=True)
class Port:
    """An input port. Its name is the torch argument name (`input`, `other`, `weight`...)."""

    name: str
    doc: str = ""
    optional: bool = False
    variadic: bool = False  # takes a list of nodes (cat's and stack's `tensors`)
    # The op needs this very tensor, not a value computed from it: torch.autograd.grad's outputs
    # and inputs, which autograd matches by identity. Such a use gets no per-use alias (whose
    # gradient would be this use's share) and sends no gradient of its own back to its source.
    exact: bool = False


@dataclass(frozen=True)
class TensorExample:
    """A tensor the generated tests feed an op: shape, value range, dtype."""

    shape: tuple[int, ...]
    low: float = -1.0
    high: float = 1.0
    dtype: Literal["float", "int64"] = "float"
    requires_grad: bool = True


@dataclass(frozen=True)
class Example:
    """One call of an op for the generated oracle and gradcheck tests."""

    inputs: Mapping[str, TensorExample | Sequence[TensorExample]]
    attrs: Mapping[str, Any] = field(default_factory=dict)
    # An example sized to take the statistics' large-tensor paths: its output (or, where the op
    # reduces to a scalar, its input) and the gradients involved have over 16,384 elements, so
    # over every threshold report/stats.py has for float tensors (_ROW, _SEGMENT_MAX). The tests
    # check every statistic of it against PyTorch in float32 and float64; gradcheck skips it
    # (too slow at that size). Every op has one (tests/test_ops.py checks).
    large: bool = False


@dataclass(frozen=True)
class PortProblem:
    """What an op's `check` found wrong, before PyTorch is asked."""

    port: str | None
    message: str
    attribute: str | None = None
    code: Literal["shape", "dtype", "bad_attribute", "value"] = "shape"


@dataclass(frozen=True)
class KnownValues:
    """What validation knows of a source's values before anything runs: each lies in [low, high]
    (NaN when one may be NaN), and `exact` holds every value where they are known exactly (a
    literal; the one value of zeros, ones and full). Unbounded draws (normal) span -inf to inf."""

    low: float
    high: float
    exact: torch.Tensor | None = None


# check(inputs as meta tensors, attrs) -> problems; runs before the meta call so that
# the user reads "expected 3 input channels, got 4" instead of PyTorch's terse messages.
CheckFn = Callable[[Inputs, Any], list[PortProblem]]
# check_values(inputs as meta tensors, what is known of the values of the ports fed by a source,
# attrs) -> problems: for ops whose kernels refuse some values (class indices, probabilities), so
# that validation refuses what the run would, where the values are known before it.
ValueCheckFn = Callable[[Inputs, Mapping[str, KnownValues], Any], list[PortProblem]]
# cost(inputs, output, attrs) -> estimated floating point operations of one call (or of one
# backward through it, for OpDef.backward_cost).
CostFn = Callable[[Inputs, torch.Tensor, Any], float]
# extra_bytes(inputs, output, attrs) -> bytes the op holds beyond its value while the run lasts.
BytesFn = Callable[[Inputs, torch.Tensor, Any], int]

# rule(inputs, output, grad_output, attrs) -> the gradient of each input port (a list for a list
# port, None where the port gets none): what the op's backward computes from the gradient of its
# output. `inputs` are the values the op was called with (before an in-place op overwrote one).
Grads = Mapping[str, torch.Tensor | list[torch.Tensor] | None]
RuleFn = Callable[[Inputs, torch.Tensor, torch.Tensor, Any], Grads]


@dataclass(frozen=True)
class BackwardRule:
    """An op's local backward rule, as code and as formulas (LaTeX, one per port: the right-hand
    side of grad_<port> = ...). In a formula, \\mathrm{<port>}, \\mathrm{out}, \\mathrm{grad\\_out}
    and \\mathrm{grad\\_<port>} name the tensors, so that a page can write each one's shape under
    it. The generated op tests check the code against torch.autograd on every example of the op
    (tests/test_op_rules.py): a stated rule cannot drift from what PyTorch computes."""

    code: RuleFn
    formulas: Mapping[str, str]
    where: str = ""  # what the formulas' other symbols mean, in words
    # Attribute values the rule holds for (attribute -> allowed values); an attribute not named
    # here may take any value.
    only: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def covers(self, attrs: Attrs) -> bool:
        return all(getattr(attrs, name) in values for name, values in self.only.items())


# The backward rule, the one place it is written: one backward through an op costs this many times
# its forward estimate, unless the op declares its own `backward_cost`. A matmul-like op's backward
# is two products of its forward's size (the gradient of each operand); an elementwise op's is one
# or two elementwise passes over a forward of (inputs + output) elements; a reduction's is an
# expand. 2 covers all of them; an op whose backward is far cheaper (max pooling scatters one
# gradient per window) or dearer than that (index zero-fills its whole input) declares its own.
BACKWARD_FACTOR = 2.0


@dataclass(frozen=True)
class Cost:
    """One node's estimated work and memory, from shapes alone (compiler/totals.py adds them up)."""

    forward: float  # floating point operations of one call, an element moved counting as one
    own_backward: float | None = None  # of one backward through it; None: the backward rule
    extra_bytes: int = 0  # tensors saved for backward that no node holds (max pooling's indices)

    @property
    def backward(self) -> float:
        return BACKWARD_FACTOR * self.forward if self.own_backward is None else self.own_backward


def touched(inputs: Inputs, out: torch.Tensor) -> float:
    """Elements read and written: an elementwise op's or a data movement's work."""
    total = float(out.numel())
    for value in inputs.values():
        for t in value if isinstance(value, list) else [value]:
            if t is not None:
                total += t.numel()
    return total


@dataclass(frozen=True)
class RunContext:
    """What of the run an op with `uses_run` is told: the train/eval switch (a fresh nn.Module's
    `module.training`: Run.training) and the run's random generator, the one the random sources
    draw from, in plan order. Outside a run (shape inference, the generated tests) an op gets the
    default: training, and a generator of its own seeded with 0 at each call, so repeated calls
    draw the same values (as gradcheck needs)."""

    training: bool = True
    generator: torch.Generator | None = None

    def draws(self) -> torch.Generator:
        return self.generator if self.generator is not None else torch.Generator().manual_seed(0)


@dataclass(frozen=True)
class OpDef:
    name: str
    category: Category
    fn: Callable[..., torch.Tensor]
    ports: tuple[Port, ...]
    attrs: type[Attrs]
    doc: str
    torch_code: str  # how PyTorch spells it, e.g. "torch.matmul(input, other)"
    examples: tuple[Example, ...] = ()
    check: CheckFn | None = None
    cost: CostFn | None = None  # None: `touched`, right for elementwise ops and data movement
    backward_cost: CostFn | None = None  # None: the backward rule (BACKWARD_FACTOR)
    extra_bytes: BytesFn | None = None
    # (outputs port, inputs port) of an op that runs the backward of the graph between them when
    # it is called (torch.autograd.grad): the compiler adds that backward to its forward cost.
    differentiates: tuple[str, str] | None = None
    differentiable: bool = True
    source: bool = False  # tensor sources: input, parameter, constant
    check_values: ValueCheckFn | None = None
    spell: SpellFn | None = None  # the node's line of PyTorch (ops/spelling.py); None: torch_code
    rule: BackwardRule | None = None  # None: no local backward rule is stated (nothing is guessed)
    # Which input elements each output element can depend on, whatever the data (ops/receptive_rules.py);
    # None: no rule, and a receptive field through this op is reported unknown.
    receptive: ReceptiveRule | None = None
    # The op's function takes `run=RunContext(...)`: batch_norm and dropout, which behave as the
    # run's train/eval switch says, dropout drawing its mask from the run's generator.
    uses_run: bool = False

    def port(self, name: str) -> Port | None:
        return next((p for p in self.ports if p.name == name), None)

    def sends_grad(self, port_name: str) -> bool:
        """Whether a tensor wired to this port gets a gradient back through this op."""
        port = self.port(port_name)
        return self.differentiable and port is not None and not port.exact

    @property
    def needs_autograd_graph(self) -> bool:
        """Whether the op reads the autograd graph its inputs were made by (an `exact` port):
        its result cannot be inferred from its inputs' shapes alone."""
        return any(p.exact for p in self.ports)

    def call(self, inputs: Inputs, attrs: Attrs, run: RunContext | None = None) -> torch.Tensor:
        """Run the op: ports and attributes become the torch function's keyword arguments (and
        `run`, for an op that uses the run's settings)."""
        kwargs: dict[str, Any] = {k: v for k, v in inputs.items() if v is not None}
        kwargs.update(attrs.model_dump())
        if self.uses_run:
            kwargs["run"] = run if run is not None else RunContext()
        out: torch.Tensor = self.fn(**kwargs)
        return out

    def spelled(self, sources: Mapping[str, str | list[str]], attrs: Attrs, training: bool = True) -> str:
        """The node as PyTorch code, from the ids wired to its ports, its attributes and (for an
        op that uses the run) the run's train/eval switch."""
        if self.spell is None:
            return self.torch_code
        return self.spell(Wiring(tuple((p.name, p.optional) for p in self.ports), sources, training), attrs)

    def estimate_flops(self, inputs: Inputs, out: torch.Tensor, attrs: Attrs) -> float:
        """The forward work of one call."""
        return self.cost(inputs, out, attrs) if self.cost is not None else touched(inputs, out)

    def estimate(self, inputs: Inputs, out: torch.Tensor, attrs: Attrs) -> Cost:
        """The forward work, one backward's work and the extra memory of one call, from shapes."""
        if not self.differentiable:
            backward: float | None = 0.0
        else:
            backward = self.backward_cost(inputs, out, attrs) if self.backward_cost is not None else None
        extra = self.extra_bytes(inputs, out, attrs) if self.extra_bytes is not None else 0
        return Cost(self.estimate_flops(inputs, out, attrs), backward, extra)


REGISTRY: dict[str, OpDef] = {}


def register(
    name: str,
    category: Category,
    fn: Callable[..., torch.Tensor],
    ports: Sequence[str | Port],
    *,
    doc: str,
    torch: str,
    attrs: type[Attrs] = NoAttrs,
    examples: Sequence[Example] = (),
    check: CheckFn | None = None,
    cost: CostFn | None = None,
    backward_cost: CostFn | None = None,
    extra_bytes: BytesFn | None = None,
    differentiates: tuple[str, str] | None = None,
    differentiable: bool = True,
    source: bool = False,
    check_values: ValueCheckFn | None = None,
    spell: SpellFn | None = None,
    rule: BackwardRule | None = None,
    receptive: ReceptiveRule | None = None,
    uses_run: bool = False,
) -> OpDef:
    """Declare an op. `ports` are torch argument names; a plain string is a required port."""
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is registered twice")
    op = OpDef(
        name=name,
        category=category,
        fn=fn,
        ports=tuple(p if isinstance(p, Port) else Port(p) for p in ports),
        attrs=attrs,
        doc=inspect.cleandoc(doc),
        torch_code=torch,
        examples=tuple(examples),
        check=check,
        cost=cost,
        backward_cost=backward_cost,
        extra_bytes=extra_bytes,
        differentiates=differentiates,
        differentiable=differentiable,
        source=source,
        check_values=check_values,
        spell=spell,
        rule=rule,
        receptive=receptive,
        uses_run=uses_run,
    )
    if rule is not None:
        unknown = set(rule.formulas) - {p.name for p in op.ports}
        if unknown or not differentiable:
            raise ValueError(f"op {name!r}: a backward rule for ports it lacks ({sorted(unknown)}) or for no gradient")
    REGISTRY[name] = op
    return op


def mutates(attrs: Attrs) -> bool:
    """Whether the op overwrites its input port (`inplace` on: relu_, tanh_, add_...)."""
    return bool(getattr(attrs, "inplace", False))
