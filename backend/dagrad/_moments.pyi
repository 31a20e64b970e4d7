"""Types of the C extension built from _moments.c (optional: see setup.py)."""

from typing_extensions import Buffer

def moments(buffer: Buffer, /) -> tuple[float, float, float, float]:
    """min, max, sum and sum of squares of a C-contiguous float32 or float64 buffer, in one pass."""
