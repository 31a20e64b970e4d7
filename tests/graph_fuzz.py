"""Graph documents for fuzzing, drawn from the registry itself: its real ops, ports and attributes
(each op's attribute JSON Schema, as GET /api/ops serves it), wired to earlier nodes; sources of
random shapes, dtypes and inits, edge cases included (empty and huge sizes, 65 dimensions, NaN and
inf, dtypes an init cannot fill); random run settings; and now and then a mistake on purpose.

Graphs drawn from the OpenAPI schema alone (test_fuzz_api.py) nearly always stop at an unknown op;
these reach shape inference, the interpreter and the encoding of results.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from dagrad.ops import REGISTRY
from dagrad.ops.registry import OpDef

OPS = [op for op in REGISTRY.values() if not op.source]
SOURCES = [op.name for op in REGISTRY.values() if op.source]
INITS = ["zeros", "ones", "full", "arange", "normal", "uniform", "values", "digits", "digit_labels"]
DTYPES = [None, None, None, "float32", "float64", "int64", "int64", "bool"]


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each drawn about `weight` times in the total. (Hypothesis favours a
    sampled_from's first entries and an integer range's ends: a plain one_of or integers(0, 24) == 0
    would not give these odds.)"""
    return st.sampled_from([s for weight, s in choices for _ in range(weight)]).flatmap(lambda s: s)


SMALL_INT = st.integers(-3, 4)
ODD_INT = st.sampled_from([-(2**63), -(2**31), 2**31, 2**62, 2**63 - 1, 2**63, 10**30])
INTS = weighted((6, SMALL_INT), (1, ODD_INT))
ODD_FLOAT = st.sampled_from([0.0, -0.0, 1.0, 0.5, 2.0, -1.0, math.nan, math.inf, -math.inf, 1e39, -1e300, 1e308])
FLOATS = weighted((4, st.floats(-3, 3)), (1, ODD_FLOAT))
SIZE = weighted((8, st.integers(1, 4)), (1, st.just(0)), (1, st.sampled_from([60, 10**6, 2**62, 2**63])))
ODD_JSON = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=3),
    st.just("\ud800"),  # an unpaired surrogate: JSON can carry it, UTF-8 cannot
    st.lists(st.integers(-2, 2), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
MISTAKE = st.sampled_from([False] * 39 + [True])  # about one draw in 40

# Attributes whose schema alone would rarely give a value that fits.
HINTS: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("reshape", "shape"): st.one_of(
        st.sampled_from([[-1], [1, -1], [-1, 1], [-1, 2], [2, -1]]), st.lists(SIZE, max_size=4)
    ),
    ("permute", "dims"): st.integers(0, 4).flatmap(lambda k: st.permutations(list(range(k)))),
}
HINTS[("view", "shape")] = HINTS[("reshape", "shape")]


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values for one attribute's JSON Schema (the subset pydantic writes for the attribute models)."""
    if "anyOf" in schema:
        return st.one_of([from_schema(s) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    match schema.get("type"):
        case "integer":
            low = schema.get("minimum")
            return INTS if low is None else st.one_of(st.integers(int(low), int(low) + 4), INTS)
        case "number" if "minimum" in schema or "maximum" in schema:
            bounded = st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False)
            return weighted((6, bounded), (1, FLOATS))
        case "number":
            return FLOATS
        case "boolean":
            return st.booleans()
        case "string":
            return st.sampled_from(["same", "valid", "full", ""])
        case "array":
            return st.lists(from_schema(schema.get("items", {})), max_size=4)
        case "null":
            return st.none()
    return ODD_JSON


@st.composite
def op_attrs(draw: st.DrawFn, op: OpDef) -> dict[str, Any]:
    schema = op.attrs.model_json_schema()
    required = set(schema.get("required", []))
    attrs: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name not in required and draw(st.booleans()):
            continue  # the default
        if draw(MISTAKE):
            attrs[name] = draw(ODD_JSON)
            continue
        attrs[name] = draw(HINTS.get((op.name, name), from_schema(prop)))
    if draw(MISTAKE):
        attrs[draw(st.sampled_from(["bogus", "\ud800"]))] = 1
    return attrs


@st.composite
def literal(draw: st.DrawFn, shape: list[int], dtype: str | None) -> Any:
    """Nested lists of numbers of `shape` (at most 64 of them), or a mistake."""
    if draw(MISTAKE):
        return draw(st.one_of(ODD_JSON, st.just([[1.0, 2.0], [3.0]]), st.just(_nested(1.0, 70))))
    if math.prod(shape) > 64 or len(shape) > 4:
        shape = shape[:1] if shape and shape[0] <= 64 else [2]
    number = st.one_of(SMALL_INT, SMALL_INT, st.sampled_from([2**62, 10**30])) if dtype in ("int64", "bool") else FLOATS
    flat = draw(st.lists(number, min_size=math.prod(shape), max_size=math.prod(shape)))
    return _reshape(flat, shape)


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


def _reshape(flat: list[Any], shape: list[int]) -> Any:
    if not shape:
        return flat[0]
    step = math.prod(shape[1:])
    return [_reshape(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


@st.composite
def source_attrs(draw: st.DrawFn, base: list[int]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    shape = draw(
        weighted(
            (6, st.just(base)),
            (2, st.just(base[:1])),
            (3, st.lists(SIZE, max_size=4)),
            (1, st.sampled_from([[], [0], [1] * 65, [0, 2**62, 2**62], [0, 2**63]])),
        )
    )
    dtype = draw(st.sampled_from(DTYPES))
    inits = ["uniform", "values", "zeros", "arange", "full"] if dtype in ("int64", "bool") else [None, *INITS]
    init = draw(weighted((9, st.sampled_from(inits)), (1, st.sampled_from([None, *INITS]))))
    if dtype is not None:
        attrs["dtype"] = dtype
    if init is not None:
        attrs["init"] = init
    if init == "values":
        attrs["values"] = draw(literal(shape, dtype))
        if draw(st.booleans()):
            attrs["shape"] = shape
    else:
        attrs["shape"] = shape
    params = {"full": ["value"], "normal": ["mean", "std"], "uniform": ["low", "high"], "arange": ["start", "step"]}
    schema = REGISTRY["input"].attrs.model_json_schema()["properties"]
    for name in params.get(init or "", []):
        if draw(st.booleans()):
            attrs[name] = draw(st.one_of(from_schema(schema[name]), SMALL_INT))
    if init == "uniform" and draw(weighted((4, st.just(True)), (1, st.just(False)))):  # mostly low <= high
        low, high = sorted([attrs.get("low", 0.0), attrs.get("high", 1.0)], key=lambda v: (v != v, v))
        attrs.update(low=low, high=high)
    floating = dtype in (None, "float32", "float64")
    requires_grad = draw(st.sampled_from([None, None, True, False] if floating else [False, False, None, True]))
    if requires_grad is not None:
        attrs["requires_grad"] = requires_grad
    if draw(MISTAKE):
        attrs[draw(st.sampled_from(["shape", "dtype", "init", "std", "bogus"]))] = draw(ODD_JSON)
    return attrs


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    """A graph document: 1-4 sources, then 0-8 ops on earlier nodes, then run settings."""
    base = draw(st.sampled_from([[3], [2, 3], [3, 3], [2, 3, 4], [1, 2, 3, 4], [4, 1], []]))
    nodes: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 4))):
        nodes.append({"id": f"s{i}", "op": draw(st.sampled_from(SOURCES)), "attrs": draw(source_attrs(base))})
    for j in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(OPS))
        nodes.append({"id": f"n{j}", "op": op.name, "attrs": draw(op_attrs(op)), "inputs": draw(_wiring(op, nodes))})
    if draw(MISTAKE):
        _break(draw, nodes)
    return {"nodes": nodes, "run": draw(_run([n["id"] for n in nodes]))}


@st.composite
def _wiring(draw: st.DrawFn, op: OpDef, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    ids = [n["id"] for n in reversed(earlier)]  # newest first: simpler draws build deeper chains
    inputs: dict[str, Any] = {}
    for port in op.ports:
        if (port.optional and draw(st.booleans())) or draw(MISTAKE):  # omitted; or missing, a mistake
            continue
        if port.variadic:
            inputs[port.name] = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3))
        else:
            inputs[port.name] = draw(st.sampled_from(ids))
    if draw(MISTAKE):
        inputs[draw(st.sampled_from(["other", "bogus", "input"]))] = draw(
            st.sampled_from([ids[0], "nowhere", [ids[0]]])
        )
    return inputs


def _break(draw: st.DrawFn, nodes: list[dict[str, Any]]) -> None:
    """One mistake in the graph as a whole: a duplicate id, a cycle, an unknown op, an id that is no text."""
    i = draw(st.integers(0, len(nodes) - 1))
    match draw(st.sampled_from(["duplicate", "cycle", "op", "id"])):
        case "duplicate":
            nodes.append({**nodes[i], "inputs": nodes[i].get("inputs", {})})
        case "cycle" if "inputs" in nodes[i] and nodes[i]["inputs"]:
            port = next(iter(nodes[i]["inputs"]))
            nodes[i]["inputs"][port] = (
                nodes[-1]["id"] if not isinstance(nodes[i]["inputs"][port], list) else [nodes[-1]["id"]]
            )
        case "op":
            nodes[i]["op"] = draw(st.sampled_from(["matmull", "Relu", ""]))
        case _:
            nodes[i]["id"] += "\ud800"


@st.composite
def _run(draw: st.DrawFn, ids: list[str]) -> dict[str, Any]:
    run: dict[str, Any] = {"dtype": draw(st.sampled_from(["float32", "float64"]))}
    if draw(st.booleans()):
        run["seed"] = draw(st.one_of(st.integers(0, 5), st.just(2**63 - 1)))
    if draw(st.booleans()):
        run["output"] = draw(st.sampled_from(ids[-3:]))
        run["grad_output"] = draw(st.sampled_from([None, "sum", "ones"]))
        run["backward_passes"] = draw(weighted((8, st.just(1)), (3, st.integers(2, 3)), (1, st.just(9))))
        if draw(st.booleans()):
            run["wrt"] = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
    if draw(MISTAKE):
        run["device"] = draw(st.sampled_from(["cuda", "auto"]))
    return run
