"""docs/ops.md, written from the registry (`dagrad ops --markdown`), so the docs cannot drift."""

from __future__ import annotations

from typing import Any, get_args

from dagrad.ops.registry import REGISTRY, Category, OpDef


def _type_of(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " / ".join(repr(v) for v in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
    if "const" in schema:
        return repr(schema["const"])
    return str(schema.get("type", "any"))


def _op_section(op: OpDef) -> list[str]:
    lines = [f"### `{op.name}`", "", op.doc, "", f"PyTorch: `{op.torch_code}`", ""]
    if op.ports:
        ports = ", ".join(
            f"`{p.name}`" + (" (optional)" if p.optional else "") + (" (list)" if p.variadic else "") for p in op.ports
        )
        lines += [f"Ports: {ports}", ""]
    lines += _rule_lines(op)
    schema = op.attrs.model_json_schema()
    props = schema.get("properties", {})
    if props:
        lines += ["| attribute | type | default | meaning |", "|---|---|---|---|"]
        for name, prop in props.items():
            default = repr(prop["default"]) if "default" in prop else "required"
            lines.append(f"| `{name}` | {_type_of(prop)} | `{default}` | {prop.get('description', '')} |")
        lines.append("")
    return lines


def _rule_lines(op: OpDef) -> list[str]:
    """The local backward rule, as math ($...$: GitHub renders it), or that none is stated."""
    if op.source or not op.differentiable:
        return []
    if op.rule is None:
        return ["Backward: no local backward rule is stated for this op.", ""]
    lines = ["Backward (the local rule, grad_out being the gradient of the output):", ""]
    for port, formula in op.rule.formulas.items():
        lhs = r"\mathrm{grad\_" + port.replace("_", r"\_") + "}"
        lines.append(f"- `{port}`: ${lhs} = {formula}$")
    lines.append("")
    if op.rule.where:
        lines += [op.rule.where, ""]
    if op.rule.only:
        held = "; ".join(f"{k} in {list(v)}" for k, v in op.rule.only.items())
        lines += [f"The rule holds only for {held}.", ""]
    return lines


def render_markdown() -> str:
    lines = [
        "# Ops",
        "",
        "Written from the op registry by `dagrad ops --markdown`; do not edit by hand.",
        "Attributes are named as the PyTorch function names its arguments.",
        "Each differentiable op's local backward rule is given as math; its code beside it in the",
        "registry is checked against torch.autograd on every example of the op (tests/test_op_rules.py).",
        "",
    ]
    for category in get_args(Category):
        ops = [op for op in REGISTRY.values() if op.category == category]
        if not ops:
            continue
        lines += [f"## {category}", ""]
        for op in ops:
            lines += _op_section(op)
    return "\n".join(lines).rstrip() + "\n"
