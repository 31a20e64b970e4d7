"""What PyTorch prints for a set of small tensors: the expectations of the editor's printTensor
(frontend/src/core/printTensor.test.ts reads them from printTensor.cases.json).

    .venv/bin/python tests/print_cases.py > frontend/src/core/printTensor.cases.json

tests/test_print_cases.py checks that the committed file is what torch prints today, so the
frontend's expectations are PyTorch's own, never typed by hand.
"""

from __future__ import annotations

import json
import math
from typing import Any

import torch
from torch._tensor_str import _tensor_str, printoptions

NAN, INF = math.nan, math.inf


def _cases() -> list[tuple[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    f = torch.float32
    return [
        ("x = (-3, 2, 5)", torch.tensor([-3.0, 2.0, 5.0])),
        ("a gradient of ones", torch.tensor([1.0, 1.0])),
        ("0.1234567 and 10", torch.tensor([0.1234567, 10.0])),
        ("a 2x2 matrix of whole numbers", torch.tensor([[1.0, 2.0], [3.0, 4.0]])),
        ("a scalar", torch.tensor(3.14159265)),
        ("zeros", torch.zeros(3)),
        ("negative zero", torch.tensor([-0.0, 1.5])),
        ("nan and infinities", torch.tensor([NAN, 1.5, INF, -INF])),
        ("only nan", torch.tensor([NAN, NAN])),
        ("tiny: scientific", torch.tensor([2.5e-5])),
        ("a span over 1000x: scientific", torch.tensor([0.5, 1500.25])),
        ("whole numbers over 1000x apart: scientific", torch.tensor([1.0, 2000.0])),
        ("past 1e8", torch.tensor([1e9, 3.0])),
        ("whole numbers in fixed notation", torch.tensor([100.0, -200.0, 7.0])),
        ("a tie at the 5th decimal: to even", torch.tensor([0.03125, 1.5])),
        ("a tie in scientific notation", torch.tensor([1.03125, 2000.0])),
        ("rounding up to the next power of ten", torch.tensor([9.99996, 20000.0])),
        ("0.00015 in float32", torch.tensor([0.00015, 1.0])),
        ("float32's 0.1", torch.tensor([0.1, 0.2, 0.3])),
        ("float64", torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)),
        ("exact halves", torch.tensor([1.5, -2.25, 3.125])),
        ("int64", torch.tensor([1, -20, 300])),
        ("bool", torch.tensor([True, False, True])),
        ("empty", torch.zeros(0)),
        ("16 normal numbers", torch.randn(16, generator=g, dtype=f)),
        ("a 4x4 normal matrix", torch.randn(4, 4, generator=g, dtype=f)),
        ("2x2x2", torch.randn(2, 2, 2, generator=g, dtype=f)),
        ("1x2x2x2", torch.arange(8, dtype=f).reshape(1, 2, 2, 2) - 3.5),
        ("16 numbers 1e-3 to 10", torch.logspace(-3, 1, 16, dtype=f)),
        ("a column", torch.tensor([[0.25], [-1.75], [3.0]])),
    ]


def _number(v: float | int | bool) -> float | int | str:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)  # 'nan', 'inf', '-inf'
    return v


def cases() -> list[dict[str, Any]]:
    """Each tensor printed as print(t) has it (inside "tensor(", indent 7, 80 columns) and as a
    node shows it (indent 0, 29 columns, or 44 for a matrix whose rows fit)."""
    out = []
    for name, t in _cases():
        dtype = str(t.dtype).removeprefix("torch.")
        values = [_number(v) for v in t.reshape(-1).tolist()]
        for indent, linewidth in ((7, 80), (0, 29), (0, 44)):
            with printoptions(linewidth=linewidth):
                text = _tensor_str(t, indent)
            out.append(
                {
                    "name": name,
                    "shape": list(t.shape),
                    "dtype": dtype,
                    "values": values,
                    "indent": indent,
                    "linewidth": linewidth,
                    "torch": text,
                }
            )
    return out


def main() -> None:
    print(json.dumps(cases(), indent=1))


if __name__ == "__main__":
    main()
