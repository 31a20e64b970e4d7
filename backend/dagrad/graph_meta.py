"""The document's `meta`: free-form data for tools, and the one part dagrad reads itself, an
exercise (`meta.exercise`): whether the page hides gradients until the student asks, and the
checks a run is marked against.

A check names a node, whether its value or its gradient is checked, and the expected tensor (its
shape and its elements, row-major), taken from a run of the teacher's graph. Every evaluate of a
document with checks compares the run's tensors with them (report/checks.py). The expected
elements travel in the document, so they are capped: a document cannot smuggle a large payload in.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# At most this many elements over all of a document's checks, and this many checks: enough for a
# conv layer's output or a few weight matrices, small beside the body limit.
MAX_CHECK_ELEMENTS = 65_536
MAX_CHECKS = 64
# A run in float32 that computes the same thing another way (sums in another order, x + x for
# 2 * x) differs from the expected numbers by a few units in the last place, times the depth of
# the graph: 1e-4 relative leaves room for that, and a different op is still told apart.
DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-5

Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class Check(BaseModel):
    """One node whose value or gradient the student's graph must match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str = Field(min_length=1, max_length=100, description="The id of the node checked.")
    of: Literal["value", "grad"] = Field(description="Which tensor of the node is checked.")
    shape: list[Annotated[int, Field(strict=True, ge=0)]] = Field(
        max_length=64, description="The expected shape; [] for a scalar."
    )
    values: list[Finite] = Field(
        max_length=MAX_CHECK_ELEMENTS, description="The expected elements, row-major (as many as the shape holds)."
    )
    rtol: Finite | None = Field(
        None, ge=0, description=f"Relative tolerance; null: {DEFAULT_RTOL} (float32's, with room for another order)."
    )
    atol: Finite | None = Field(None, ge=0, description=f"Absolute tolerance; null: {DEFAULT_ATOL}.")

    @model_validator(mode="after")
    def _values_fill_shape(self) -> Check:
        numel = math.prod(self.shape)
        if numel > MAX_CHECK_ELEMENTS:
            raise ValueError(
                f"the shape {self.shape} holds {numel:,} elements; a document's checks hold at most "
                f"{MAX_CHECK_ELEMENTS:,}. Check a smaller node"
            )
        if len(self.values) != numel:
            raise ValueError(
                f"values holds {len(self.values)} numbers but the shape {self.shape} holds {numel}: give one "
                "number per element, row-major"
            )
        return self


class Exercise(BaseModel):
    """What makes a graph an exercise: gradients to predict, and checks of the student's graph."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    predict: bool = Field(
        False,
        strict=True,
        description="The page hides gradients until the student reveals them (predict, then reveal).",
    )
    checks: list[Check] = Field(
        default_factory=list,
        max_length=MAX_CHECKS,
        description="Nodes whose value or gradient each run is compared with (the answer's `checks`).",
    )

    @model_validator(mode="after")
    def _within_cap(self) -> Exercise:
        seen: set[tuple[str, str]] = set()
        total = 0
        for i, check in enumerate(self.checks):
            if (check.node, check.of) in seen:
                raise ValueError(f"checks[{i}] checks the {check.of} of {check.node!r} again: check each once")
            seen.add((check.node, check.of))
            total += len(check.values)
            if total > MAX_CHECK_ELEMENTS:
                raise ValueError(
                    f"checks[{i}] brings the checks to {total:,} elements; a document's checks hold at most "
                    f"{MAX_CHECK_ELEMENTS:,}. Check fewer or smaller nodes"
                )
        return self


class Meta(BaseModel):
    """Free-form data for tools (the examples keep the chapter's code and printout here), and an
    exercise."""

    # Read like the dict it was before it had a field of its own: meta.get("section"), meta["prints"].

    model_config = ConfigDict(extra="allow", frozen=True)

    # Left out when there is none: an example's meta reads back as it was written.
    exercise: Exercise | None = Field(
        None, description="An exercise: predict, then reveal, and checks.", exclude_if=lambda e: e is None
    )

    def get(self, key: str, default: Any = None) -> Any:
        if key == "exercise":
            return self.exercise if self.exercise is not None else default
        return (self.model_extra or {}).get(key, default)

    def __getitem__(self, key: str) -> Any:
        found = self.get(key, KeyError)
        if found is KeyError:
            raise KeyError(key)
        return found

    @property
    def checks(self) -> list[Check]:
        return [] if self.exercise is None else self.exercise.checks
