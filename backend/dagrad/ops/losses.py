"""Losses: mse_loss, cross_entropy, nll_loss, binary_cross_entropy.

The first port is the prediction (`input`), the second the `target`, as in
torch.nn.functional.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
import torch._C._functorch as _functorch
import torch.nn.functional as F
from pydantic import Field

from dagrad.errors import OpError, fmt_shape
from dagrad.ops import checks
from dagrad.ops.loss_rules import BCE_RULE, CROSS_ENTROPY_RULE, MSE_RULE, NLL_RULE
from dagrad.ops.receptive_rules import CLASS_LOSS, ELEMENTWISE_LOSS
from dagrad.ops.registry import Attrs, Example, Inputs, KnownValues, Port, PortProblem, TensorExample, register
from dagrad.ops.spelling import call

T = TensorExample
Reduction = Literal["mean", "sum", "none"]
WEIGHT = Port("weight", "Optional rescaling weight per class (or per element for BCE).", optional=True)


class ReductionAttrs(Attrs):
    reduction: Reduction = Field("mean", description="'mean', 'sum' or 'none' (one loss per element).")


class ClassLossAttrs(ReductionAttrs):
    ignore_index: int = Field(-100, description="Target class that contributes nothing.")


class CrossEntropyAttrs(ClassLossAttrs):
    label_smoothing: float = Field(0.0, ge=0.0, le=1.0, description="Mix the target with the uniform distribution.")


def vmapped(t: torch.Tensor) -> bool:
    """Whether `t` is one sample of torch.func.vmap's batch, whose values cannot be read (a Python
    `if` on them has no single answer). Only per-sample gradients vmap a graph (dagrad/per_sample.py),
    and they run the whole batch first, where these checks read the very same values."""
    while _functorch.is_functorch_wrapped_tensor(t):
        if _functorch.is_batchedtensor(t):
            return True
        t = _functorch.get_unwrapped(t)
    return False


def _check_class_values(input: torch.Tensor, target: torch.Tensor, ignore_index: int) -> None:
    """Class indices out of range are refused before the kernel sees them: on a GPU, PyTorch
    would fail with a device-side assert that leaves the whole process unable to use CUDA.
    Validation calls it too, on a literal target (`_known_classes`)."""
    if target.dtype.is_floating_point or target.device.type == "meta" or target.numel() == 0 or vmapped(target):
        return
    classes = _classes(input)
    lo, hi = torch.stack(torch.aminmax(target)).tolist()  # one read back: the common case ends here
    if lo >= 0 and hi < classes:
        return
    bad = ((target < 0) | (target >= classes)) & (target != ignore_index)
    if bool(bad.any()):
        first = int(target[bad].reshape(-1)[0])
        raise OpError(
            f"target holds class {first}, but input has {classes} classes (0 to {classes - 1}). "
            "Give targets between 0 and classes - 1, or set ignore_index to skip one.",
            port="target",
            code="value",
        )


def _classes(input: torch.Tensor) -> int:
    return input.shape[1] if input.dim() >= 2 else input.shape[0]


def _known_classes(inputs: Inputs, known: Mapping[str, KnownValues], attrs: Any) -> list[PortProblem]:
    """A target of class indices from a source: its values are known before the run (a literal,
    full...) or bounded (uniform draws), so validation refuses what the run would."""
    x, y, values = inputs.get("input"), inputs.get("target"), known.get("target")
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor) or values is None:
        return []
    if y.dtype.is_floating_point or y.numel() == 0:
        return []
    if values.exact is not None:
        try:
            _check_class_values(x, values.exact, attrs.ignore_index)
        except OpError as exc:
            return [PortProblem("target", str(exc), code="value")]
        return []
    classes = _classes(x)
    lo, hi = int(values.low), int(values.high)
    outside = [(lo, min(hi, -1)), (max(lo, classes), hi)]  # integer intervals outside [0, classes)
    bad = sum(max(0, b - a + 1) for a, b in outside) - (1 if _ignore_in(outside, attrs.ignore_index) else 0)
    if bad <= 0:
        return []
    return [
        PortProblem(
            "target",
            f"target holds classes {lo} to {hi}, but input has {classes} classes (0 to {classes - 1}): keep its "
            f"values between 0 and {classes - 1} (for init 'uniform': low 0 and high {classes}).",
            code="value",
        )
    ]


def _ignore_in(intervals: list[tuple[int, int]], index: int) -> bool:
    return any(a <= index <= b for a, b in intervals)


def _probabilities(*ports: str) -> Any:
    """binary_cross_entropy's input and target must lie in [0, 1]: checked on sources at validation
    (known values), and on every tensor at run time (`_bce`)."""

    def check(inputs: Inputs, known: Mapping[str, KnownValues], attrs: Any) -> list[PortProblem]:
        problems = []
        for port in ports:
            values = known.get(port)
            if values is not None and not (values.low >= 0.0 and values.high <= 1.0):
                problems.append(PortProblem(port, _outside_01(port, values.low, values.high), code="value"))
        return problems

    return check


def _outside_01(port: str, low: float, high: float) -> str:
    what = "may be NaN" if low != low or high != high else f"lie between {low:g} and {high:g}"
    fix = " (e.g. from sigmoid)" if port == "input" else ""
    return f"binary_cross_entropy needs {port} values in [0, 1]{fix}; this {port}'s values {what}."


def _bce(input: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    for port, t in (("input", input), ("target", target)):
        if t.device.type != "meta" and t.numel() and not vmapped(t):
            lo, hi = torch.stack(torch.aminmax(t.detach())).tolist()
            if not (lo >= 0.0 and hi <= 1.0):
                raise OpError(_outside_01(port, lo, hi), port=port, code="value")
    return F.binary_cross_entropy(input, target, **kwargs)


def cross_entropy(input: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    _check_class_values(input, target, kwargs.get("ignore_index", -100))
    return F.cross_entropy(input, target, **kwargs)


def nll_loss(input: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    _check_class_values(input, target, kwargs.get("ignore_index", -100))
    return F.nll_loss(input, target, **kwargs)


def _numel(inputs: Inputs, port: str) -> int:
    t = inputs.get(port)
    return t.numel() if isinstance(t, torch.Tensor) else 0


def _mse_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """A subtraction, a square and a sum per element."""
    return 3.0 * _numel(inputs, "input") + out.numel()


def _cross_entropy_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """log_softmax's five passes over the scores, then with probability targets a product and a
    sum per element (and the uniform mix of label smoothing): three more, plus the target read."""
    return 8.0 * _numel(inputs, "input") + _numel(inputs, "target") + out.numel()


def _log_probabilities(inputs: Inputs, out: torch.Tensor, attrs: Any) -> int:
    """log_softmax's result, saved for backward and held by no node."""
    x = inputs["input"]
    assert isinstance(x, torch.Tensor)
    return x.numel() * x.dtype.itemsize


def _nll_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """Per target: pick its log-probability, weigh it, add it up; the other classes are not read."""
    return 3.0 * _numel(inputs, "target") + out.numel()


def _nll_backward(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """The input's gradient zero-filled (every class), then one weighted element per target."""
    return float(_numel(inputs, "input") + 2 * _numel(inputs, "target"))


def _bce_cost(inputs: Inputs, out: torch.Tensor, attrs: Any) -> float:
    """Per element: log x, 1 - x, log(1 - x), both clamped at -100, 1 - y, two products, their
    sum and its negation (and the weight's product), then the reduction's sum."""
    per_element = 11 if inputs.get("weight") is not None else 10
    return float(per_element * _numel(inputs, "input") + out.numel())


def _class_target(inputs: Inputs, attrs: Any) -> list[PortProblem]:
    x, y = inputs.get("input"), inputs.get("target")
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        return []
    if y.dtype.is_floating_point:
        return []  # class probabilities: PyTorch checks the shape
    if y.dtype != torch.int64:
        return [
            PortProblem(
                "target",
                f"target holds class indices and must be int64; got {str(y.dtype).removeprefix('torch.')}.",
                code="dtype",
            )
        ]
    expected = (x.shape[0], *x.shape[2:]) if x.dim() >= 2 else ()
    if tuple(y.shape) != expected:
        return [
            PortProblem(
                "target",
                f"input {fmt_shape(x.shape)} (batch × classes) needs a target of class indices with shape "
                f"{fmt_shape(expected)}; got {fmt_shape(y.shape)}.",
            )
        ]
    return []


register(
    "mse_loss",
    "losses",
    F.mse_loss,
    ("input", "target"),
    attrs=ReductionAttrs,
    doc="Mean squared error: ((input - target) ** 2).mean(). nn.MSELoss()([[3.]], [[0.]]) is 9.",
    torch="F.mse_loss(input, target, reduction='mean')",
    receptive=ELEMENTWISE_LOSS,
    spell=call("F.mse_loss"),
    check=checks.same_shape("input", "target", "mse_loss compares them element by element; give them one shape."),
    cost=_mse_cost,
    rule=MSE_RULE,
    examples=[
        Example({"input": T((3, 4)), "target": T((3, 4))}),
        Example({"input": T((2, 5)), "target": T((2, 5))}, {"reduction": "sum"}),
        Example({"input": T((170, 131)), "target": T((170, 131))}, large=True),
        Example({"input": T((170, 131)), "target": T((170, 131))}, {"reduction": "none"}, large=True),
    ],
)
register(
    "cross_entropy",
    "losses",
    cross_entropy,
    ("input", "target", WEIGHT),
    attrs=CrossEntropyAttrs,
    doc="Cross entropy of raw scores (logits) N×C against class indices N (int64) or probabilities N×C.",
    torch="F.cross_entropy(input, target, weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0)",
    receptive=CLASS_LOSS,
    spell=call("F.cross_entropy"),
    check=_class_target,
    cost=_cross_entropy_cost,
    rule=CROSS_ENTROPY_RULE,
    extra_bytes=_log_probabilities,
    check_values=_known_classes,
    examples=[
        Example({"input": T((4, 3)), "target": T((4,), dtype="int64", low=0, high=3)}),
        Example({"input": T((4, 3)), "target": T((4, 3), low=0.1, high=1.0)}, {"label_smoothing": 0.1}),
        Example({"input": T((17_001, 3), -3.0, 3.0), "target": T((17_001,), dtype="int64", low=0, high=3)}, large=True),
        Example(
            {"input": T((17_001, 4), -3.0, 3.0), "target": T((17_001, 4), low=0.1, high=1.0)},
            {"label_smoothing": 0.1, "reduction": "none"},
            large=True,
        ),
    ],
)
register(
    "nll_loss",
    "losses",
    nll_loss,
    ("input", "target", WEIGHT),
    attrs=ClassLossAttrs,
    doc="Negative log likelihood of log-probabilities N×C (from log_softmax) against class indices N.",
    torch="F.nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean')",
    receptive=CLASS_LOSS,
    spell=call("F.nll_loss"),
    check=_class_target,
    cost=_nll_cost,
    rule=NLL_RULE,
    backward_cost=_nll_backward,
    check_values=_known_classes,
    examples=[
        Example(
            {
                "input": T((4, 3)),
                "target": T((4,), dtype="int64", low=0, high=3),
                "weight": T((3,), low=0.5, high=2.0, requires_grad=False),
            }
        ),
        Example(
            {
                "input": T((17_001, 3), -3.0, 0.0),
                "target": T((17_001,), dtype="int64", low=0, high=3),
                "weight": T((3,), low=0.5, high=2.0, requires_grad=False),
            },
            large=True,
        ),
        # a target of over 2**20 class indices: int64 statistics are taken in chunks of that size
        Example(
            {"input": T((1_048_601, 2), -3.0, 0.0), "target": T((1_048_601,), dtype="int64", low=0, high=2)},
            {"reduction": "sum"},
            large=True,
        ),
    ],
)
register(
    "binary_cross_entropy",
    "losses",
    _bce,
    ("input", "target", WEIGHT),
    attrs=ReductionAttrs,
    doc="Binary cross entropy of probabilities in (0, 1) (e.g. from sigmoid) against targets in [0, 1].",
    torch="F.binary_cross_entropy(input, target, weight=None, reduction='mean')",
    receptive=ELEMENTWISE_LOSS,
    spell=call("F.binary_cross_entropy"),
    check=checks.same_shape("input", "target", "binary_cross_entropy needs one target per probability."),
    cost=_bce_cost,
    rule=BCE_RULE,
    check_values=_probabilities("input", "target"),
    examples=[
        Example({"input": T((3, 4), low=0.1, high=0.9), "target": T((3, 4), low=0.0, high=1.0, requires_grad=False)}),
        Example(
            {
                "input": T((170, 131), low=0.1, high=0.9),
                "target": T((170, 131), low=0.0, high=1.0, requires_grad=False),
            },
            large=True,
        ),
    ],
)
