"""What validation checks of a source once its dtype is known (the run's dtype when it names none):
that its init can fill that dtype, since the run would fail otherwise; and what is known of its
values, for the ops that refuse some values (ops/losses.py).

The rules give the messages; then `create` itself is rehearsed on one element (or, for a
literal, on all of it), so that whatever the rules miss fails here, not in the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dagrad.errors import dtype_name
from dagrad.ops.literals import literal_tensor
from dagrad.ops.registry import KnownValues
from dagrad.ops.sources import DATA_INITS, SourceAttrs, create

INT64_RANGE = (-(2**63), 2**63)  # [low, high)


@dataclass(frozen=True)
class SourceCheck:
    attrs: SourceAttrs
    dtype: torch.dtype
    problems: list[tuple[str, str]]  # (attribute, message)
    literal: torch.Tensor | None = None  # init 'values': the tensor, as the run will make it

    def known(self) -> KnownValues | None:
        """What its values are (asked only by ops with conditions on them); None when empty."""
        return None if self.problems or self.attrs.numel() == 0 else _known(self.attrs, self.dtype, self.literal)


def check_source(attrs: SourceAttrs, dtype: torch.dtype) -> SourceCheck:
    literal = None
    try:
        if attrs.init == "values":
            literal = literal_tensor(attrs.values, dtype)
    except ValueError as exc:
        return SourceCheck(attrs, dtype, [("values", str(exc))])
    problems = _rules(attrs, dtype)
    # A floating point tensor takes every init the attributes' own validation let through; the
    # rules cover the other dtypes, and the rehearsal is their backstop.
    # (A data init's rules are complete: rehearsing it would load its data set.)
    if not problems and literal is None and not dtype.is_floating_point and attrs.init not in DATA_INITS:
        a = attrs
        text = _rehearse(a.init, dtype, a.value, a.mean, a.std, a.low, a.high, a.start, a.step)
        if text is not None:
            problems = [("init", f"init {attrs.init!r} cannot fill a {dtype_name(dtype)} tensor: {text}")]
    return SourceCheck(attrs, dtype, problems, literal)


def _rehearse(init: str, dtype: torch.dtype, *params: float) -> str | None:
    """`create` on one element, from a generator of its own (the run's draws are not disturbed):
    what it raised, or None."""
    names = ("value", "mean", "std", "low", "high", "start", "step")
    attrs = SourceAttrs.model_validate({"shape": [1], "init": init, **dict(zip(names, params, strict=True))})
    try:
        create(attrs, dtype, torch.Generator())
    except Exception as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def _rules(attrs: SourceAttrs, dtype: torch.dtype) -> list[tuple[str, str]]:
    name = dtype_name(dtype)
    match attrs.init:
        case "normal" if not dtype.is_floating_point:
            instead = (
                "'uniform' (integers in [low, high), like torch.randint), 'zeros', 'ones', 'full', 'arange' or 'values'"
                if dtype == torch.int64
                else "'uniform' with low 0 and high 2 (random true/false), 'zeros', 'ones', 'full' or 'values'"
            )
            return [
                (
                    "init",
                    f"init 'normal' draws floating point numbers, which a {name} tensor cannot hold. "
                    f"Use init {instead}, or set dtype to float32 or float64.",
                )
            ]
        case "uniform":
            return _uniform(attrs.low, attrs.high, dtype)
        case "digits" if not dtype.is_floating_point:
            return [
                (
                    "init",
                    f"init 'digits' gives pixel intensities between 0 and 1, which a {name} tensor cannot hold; "
                    "set dtype to float32 or float64.",
                )
            ]
        case "digit_labels" if dtype == torch.bool:
            return [
                (
                    "init",
                    "init 'digit_labels' gives labels 0 to 9, which a bool tensor cannot hold; set dtype to int64.",
                )
            ]
        case "full":
            return _fits("value", attrs.value, dtype)
        case "arange" if dtype == torch.int64 and attrs.numel():
            last = attrs.start + attrs.step * (attrs.numel() - 1)  # as create computes it, in float64
            bad = next((a for a, v in (("start", attrs.start), ("step", last)) if not _in_int64(v)), None)
            if bad is not None:
                return [
                    (
                        bad,
                        f"arange from start={attrs.start:g} by step={attrs.step:g} reaches {last:g} at element "
                        f"{attrs.numel() - 1:,}, which int64 cannot hold; use smaller numbers, or a float dtype.",
                    )
                ]
    return []


def _uniform(low: float, high: float, dtype: torch.dtype) -> list[tuple[str, str]]:
    name = dtype_name(dtype)
    if dtype.is_floating_point:
        biggest = torch.finfo(dtype).max
        for attr, v in (("low", low), ("high", high)):
            if not (math.isfinite(v) and abs(v) <= biggest):
                return [(attr, f"uniform needs finite low and high within {name}'s range (±{biggest:.4g}); got {v}.")]
        if high - low > biggest:
            return [("high", f"uniform's range high - low = {high - low:.4g} is more than {name} can hold; narrow it.")]
        return []
    if not (math.isfinite(low) and math.isfinite(high)):
        return [("low" if not math.isfinite(low) else "high", "uniform needs finite low and high.")]
    lo, hi = int(low), int(high)
    bounds = (0, 2) if dtype == torch.bool else (INT64_RANGE[0], INT64_RANGE[1] - 1)
    draws = f"for a {name} tensor, uniform draws integers in [low, high), like torch.randint(int(low), int(high))"
    if lo >= hi:
        return [("high", f"{draws}: it needs int(low) < int(high), got {lo} and {hi}. Set high to {lo + 1} or more.")]
    if lo < bounds[0] or hi > bounds[1]:
        attr = "low" if lo < bounds[0] else "high"
        return [(attr, f"{draws}: low and high must lie in [{bounds[0]}, {bounds[1]}] for {name}; got {lo}, {hi}.")]
    return []


def _fits(attr: str, v: float, dtype: torch.dtype) -> list[tuple[str, str]]:
    """A fill value the dtype cannot hold: torch.full refuses it (NaN and inf included, for int64)."""
    if dtype == torch.int64 and not _in_int64(v):
        return [(attr, f"{attr}={v:g} does not fit in int64 (±9.2e18, no NaN or inf); use a float dtype.")]
    if dtype == torch.float32 and math.isfinite(v) and abs(v) > torch.finfo(torch.float32).max:
        return [(attr, f"{attr}={v:g} is beyond float32's range (±3.4e38); use float64 or a smaller value.")]
    return []


def _in_int64(v: float) -> bool:
    return math.isfinite(v) and INT64_RANGE[0] <= v < INT64_RANGE[1]


def _known(attrs: SourceAttrs, dtype: torch.dtype, literal: torch.Tensor | None) -> KnownValues:
    """The values' bounds as the dtype holds them (bool and int64 drop what they cannot hold)."""
    one = {"zeros": 0.0, "ones": 1.0, "full": attrs.value}.get(attrs.init)
    exact = literal if literal is not None else None if one is None else torch.full([1], one, dtype=dtype)
    if attrs.init in DATA_INITS:  # a few thousand numbers at most: the values themselves
        exact = create(attrs, dtype, torch.Generator())
    if dtype == torch.bool:  # a bound is enough: only 0 and 1
        return KnownValues(0.0, 1.0, exact)
    if exact is not None:  # aminmax is NaN where a value is
        lo, hi = torch.aminmax(exact)
        return KnownValues(float(lo), float(hi), exact)
    match attrs.init:
        case "arange":  # monotonic, and so are the casts to int64 and float32
            ends = [attrs.start, attrs.start + attrs.step * (attrs.numel() - 1)]
        case "uniform" if dtype.is_floating_point:
            ends = [attrs.low, attrs.high]
        case "uniform":
            ends = [int(attrs.low), int(attrs.high) - 1]
        case _:  # normal
            ends = [attrs.mean, attrs.mean] if attrs.std == 0 or math.isnan(attrs.mean) else [-math.inf, math.inf]
    if any(math.isnan(v) for v in ends):
        return KnownValues(math.nan, math.nan)
    held = torch.tensor(ends, dtype=torch.float64).to(dtype).double().tolist()
    return KnownValues(min(held), max(held))
