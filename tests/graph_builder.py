"""Build dagrad graph documents in tests, and decode the tensors of a response.

Example:

b = GraphBuilder(seed=0, dtype="float64")
w = b.parameter("w", values=[[1.0, 2.0], [3.0, 4.0]])
x = b.input("x", values=[1.0, -1.0])
y = b.op("matmul", input=w, other=x)  # ports as keywords; the id is generated, or given second
loss = b.op("sum", "loss", input=y)
b.run(output=loss)
response = b.evaluate()  # dagrad.engine.evaluate, every tensor's data included
decode(response.nodes["w"].grad)  # -> torch.Tensor (a payload's JSON, a dict, decodes too)
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import torch

from dagrad.engine import evaluate
from dagrad.graph_format import Graph
from dagrad.results import EvaluateResponse, PayloadOptions, TensorPayload

_WIRE = {"float32": "<f4", "float64": "<f8", "int64": "<i8", "uint8": "u1"}
_TORCH = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}


class GraphBuilder:
    """Accumulates nodes and a run configuration; `graph()` gives a validated `Graph`."""

    def __init__(self, seed: int = 0, dtype: str = "float64", device: str = "cpu") -> None:
        self.nodes: list[dict[str, Any]] = []
        self.run_config: dict[str, Any] = {"seed": seed, "dtype": dtype, "device": device}
        self._ids: set[str] = set()
        self._counter = 0

    # --- nodes --------------------------------------------------------------------------------
    def _new_id(self, op: str, node_id: str | None) -> str:
        if node_id is None:
            while True:
                node_id = f"{op}_{self._counter}"
                self._counter += 1
                if node_id not in self._ids:
                    break
        if node_id in self._ids:
            raise ValueError(f"node id {node_id!r} is used twice")
        self._ids.add(node_id)
        return node_id

    def add(
        self,
        op: str,
        node_id: str | None = None,
        attrs: dict[str, Any] | None = None,
        inputs: dict[str, str | list[str]] | None = None,
    ) -> str:
        """Append a node and return its id."""
        nid = self._new_id(op, node_id)
        self.nodes.append({"id": nid, "op": op, "attrs": dict(attrs or {}), "inputs": dict(inputs or {})})
        return nid

    def source(self, kind: str, node_id: str | None = None, values: Any = None, **attrs: Any) -> str:
        """A source node (`input`, `parameter` or `constant`); `values` means init 'values'."""
        if values is not None:
            if isinstance(values, torch.Tensor):
                if not values.is_floating_point() and "dtype" not in attrs:
                    attrs["dtype"] = "bool" if values.dtype == torch.bool else "int64"
                values = values.detach().cpu().tolist()
            attrs = {"init": "values", "values": values, **attrs}
        return self.add(kind, node_id, attrs)

    def parameter(self, node_id: str | None = None, values: Any = None, **attrs: Any) -> str:
        return self.source("parameter", node_id, values, **attrs)

    def input(self, node_id: str | None = None, values: Any = None, **attrs: Any) -> str:
        return self.source("input", node_id, values, **attrs)

    def constant(self, node_id: str | None = None, values: Any = None, **attrs: Any) -> str:
        return self.source("constant", node_id, values, **attrs)

    def tensor(self, node_id: str | None, t: torch.Tensor, requires_grad: bool | None = None) -> str:
        """A literal source holding exactly `t`: a parameter when it requires grad, else an input."""
        rg = t.requires_grad if requires_grad is None else requires_grad
        return self.source("parameter" if rg else "input", node_id, t, requires_grad=rg)

    def op(
        self, op: str, node_id: str | None = None, *, attrs: dict[str, Any] | None = None, **inputs: str | list[str]
    ) -> str:
        """An op node: keyword arguments wire ports to node ids (a list for list ports)."""
        return self.add(op, node_id, attrs, inputs)

    # --- run ----------------------------------------------------------------------------------
    def run(self, **config: Any) -> GraphBuilder:
        """Set run fields: output, wrt, grad_output, backward_passes, seed, dtype, device."""
        self.run_config.update(config)
        return self

    def graph(self) -> Graph:
        return Graph.model_validate({"nodes": self.nodes, "run": self.run_config})

    def evaluate(self, options: PayloadOptions | None = None) -> EvaluateResponse:
        """dagrad.engine.evaluate on this graph; by default every tensor's data comes whole, as base64."""
        return evaluate(self.graph(), options or PayloadOptions(full=["*"]))


def decode(payload: TensorPayload | dict[str, Any] | None) -> torch.Tensor:
    """A response's tensor (value or gradient), as a model or as the JSON of one, back as a CPU
    tensor of its own dtype: the one decoder of every test."""
    if payload is None:
        raise ValueError("no tensor here (the payload is null; see grad_note)")
    if isinstance(payload, dict):
        payload = TensorPayload.model_validate(payload)
    data = payload.data
    if data is None:
        raise ValueError(f"the data was left out: {payload.note}")
    dtype = _TORCH.get(payload.dtype, torch.float64)
    if data.encoding == "list":
        values = _nan_for_null(data.values)
        wire = torch.float64 if data.dtype in ("float32", "float64") else torch.int64
        return torch.tensor(values, dtype=wire).reshape(payload.shape).to(dtype)
    assert data.b64 is not None
    array = np.frombuffer(base64.b64decode(data.b64), dtype=np.dtype(_WIRE[data.dtype]))
    t = torch.from_numpy(array.astype(array.dtype.newbyteorder("="))).reshape(payload.shape)
    return t.to(dtype)


def _nan_for_null(values: Any) -> Any:
    # The list encoding writes non-finite numbers as null; their sign is lost, so they come back as NaN.
    if isinstance(values, list):
        return [_nan_for_null(v) for v in values]
    return float("nan") if values is None else values
