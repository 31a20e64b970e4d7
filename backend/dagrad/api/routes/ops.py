"""GET /api/ops: the registry, enough for a client to draw a palette without knowing any op."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import APIRouter
from pydantic import BaseModel, Field

from dagrad.ops import REGISTRY
from dagrad.ops.registry import Category, OpDef

router = APIRouter(prefix="/api", tags=["ops"])


class PortInfo(BaseModel):
    name: str
    doc: str
    optional: bool
    variadic: bool = Field(description="Takes a list of nodes (like cat's tensors).")


class RuleInfo(BaseModel):
    """The op's local backward rule: the gradient each input port gets from grad_out."""

    formulas: dict[str, str] = Field(
        description="Port -> LaTeX of its gradient (the right-hand side of grad_<port> = ...). \\mathrm{<port>}, "
        "\\mathrm{out}, \\mathrm{grad\\_out} and \\mathrm{grad\\_<port>} name tensors."
    )
    where: str = Field(description="What the formulas' other symbols mean.")
    only: dict[str, list[Any]] = Field(
        description="Attribute values the rule holds for; an attribute not named may take any value."
    )


NO_RULE = "no local backward rule is stated for this op: the steps show what autograd computed, without a formula."


class OpInfo(BaseModel):
    name: str
    category: str
    doc: str
    torch: str = Field(description="How PyTorch spells the op.")
    ports: list[PortInfo]
    attrs_schema: dict[str, Any] = Field(description="JSON Schema of the attributes, with defaults.")
    differentiable: bool
    source: bool = Field(description="A tensor source (input, parameter, constant): no input ports.")
    rule: RuleInfo | None = Field(None, description="Its local backward rule, when one is stated.")
    rule_note: str | None = Field(None, description="Why a differentiable op has no rule here.")
    receptive: str | None = Field(
        None,
        description="How its output elements depend on its inputs' elements whatever the data (its receptive "
        "rule, in words); null: no rule, and a receptive field through it is reported unknown.",
    )


class OpsResponse(BaseModel):
    categories: list[str]
    ops: list[OpInfo]


def op_info(op: OpDef) -> OpInfo:
    return OpInfo(
        name=op.name,
        category=op.category,
        doc=op.doc,
        torch=op.torch_code,
        ports=[PortInfo(name=p.name, doc=p.doc, optional=p.optional, variadic=p.variadic) for p in op.ports],
        attrs_schema=op.attrs.model_json_schema(),
        differentiable=op.differentiable,
        source=op.source,
        rule=None
        if op.rule is None
        else RuleInfo(
            formulas=dict(op.rule.formulas),
            where=op.rule.where,
            only={k: list(v) for k, v in op.rule.only.items()},
        ),
        rule_note=NO_RULE if op.rule is None and op.differentiable else None,
        receptive=None if op.receptive is None else op.receptive.kind,
    )


def list_ops() -> OpsResponse:
    ops = [op_info(op) for op in REGISTRY.values()]
    categories = [c for c in get_args(Category) if any(op.category == c for op in ops)]
    ops.sort(key=lambda op: categories.index(op.category))
    return OpsResponse(categories=categories, ops=ops)


@router.get("/ops", operation_id="ops-list")
def get_ops() -> OpsResponse:
    return list_ops()
