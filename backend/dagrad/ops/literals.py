"""Literal tensors (init 'values'): their shape, and the tensor itself, made the same way at
validation and at run time so that what validates also runs.

A literal can hold millions of numbers (the body limit allows about 8 million), so nothing here
walks it element by element in Python: NumPy finds its shape in one pass in C, and torch.tensor
converts it. Nesting is bounded first, along the first elements only, before anything walks it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from dagrad.errors import dtype_name

# The most dimensions of any tensor: NumPy's limit (NPY_MAXDIMS), which every tensor's data goes
# through when it is encoded. A literal nested deeper would be a tensor of more dimensions.
MAX_DIMS = 64


def literal_shape(values: Any) -> list[int]:
    """Shape of a nested list of numbers; ValueError (a message for the user) on ragged lists,
    on anything but numbers, and on nesting deeper than MAX_DIMS."""
    depth, first = 0, values
    while isinstance(first, list):
        depth += 1
        if depth > MAX_DIMS:
            raise ValueError(_too_deep())
        first = first[0] if first else None
    try:
        array = np.array(values)
    except (ValueError, TypeError) as exc:
        if "maximum number of dimension" in str(exc):
            raise ValueError(_too_deep()) from None
        raise ValueError(
            "values is ragged: every row must have the same length, and numbers must all be at the same depth"
        ) from None
    # 'U': strings; 'O': null, objects, or integers too large for 64 bits (numbers to torch.tensor)
    if array.dtype.kind not in "biuf":
        numbers = array.dtype.kind == "O" and all(isinstance(x, int | float) for x in array.flat)
        if not numbers:
            odd = "" if array.dtype.kind == "U" else next(x for x in array.flat if not isinstance(x, int | float))
            found = {type(None): "null", dict: "an object", str: "text"}.get(type(odd), type(odd).__name__)
            raise ValueError(f"values must hold numbers (or true/false), found {found}")
    return list(array.shape)


def literal_tensor(values: Any, dtype: torch.dtype) -> torch.Tensor:
    """torch.tensor(values, dtype=dtype), or ValueError saying which numbers the dtype cannot hold."""
    try:
        return torch.tensor(values, dtype=dtype)
    except (RuntimeError, ValueError, TypeError, OverflowError) as exc:
        name = dtype_name(dtype)
        if dtype == torch.int64:
            raise ValueError(
                "values hold a number that int64 cannot hold (NaN, inf, or beyond ±9.2e18); use dtype float32 "
                "or float64, or integers in int64's range"
            ) from exc
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"values cannot be made a {name} tensor ({text}); use smaller numbers") from exc


def _too_deep() -> str:
    return f"values is nested more than {MAX_DIMS} deep; a tensor has at most {MAX_DIMS} dimensions"
