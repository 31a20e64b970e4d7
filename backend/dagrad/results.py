"""Response models: what the API returns about a graph, its values and its gradients."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from dagrad.errors import GraphError


class TensorStats(BaseModel):
    """Summary statistics. A null min/max/mean/std/norm means it is not finite (see nan and inf)."""

    min: float | None
    max: float | None
    mean: float | None
    std: float | None = Field(description="As torch.std (unbiased); null for a single element.")
    norm: float | None = Field(description="The 2-norm of all elements.")
    nan: int = Field(description="How many elements are NaN.")
    inf: int = Field(description="How many elements are +inf or -inf.")


class TensorData(BaseModel):
    """The elements, row-major: base64 of little-endian bytes, or nested JSON lists."""

    encoding: Literal["base64", "list"]
    dtype: Literal["float32", "float64", "int64", "uint8"] = Field(
        description="Element type of the base64 bytes (bool tensors come as uint8)."
    )
    b64: str | None = Field(None, description="base64 of the raw little-endian elements, for encoding 'base64'.")
    values: Any = Field(None, description="Nested lists (non-finite numbers as null), for encoding 'list'.")


class TensorPayload(BaseModel):
    """One tensor, a value or a gradient: its summary, and its data unless too large."""

    shape: list[int]
    dtype: str
    numel: int
    stats: TensorStats
    data: TensorData | None = Field(description="Null when the tensor is larger than the request allows; see note.")
    truncated: bool = Field(description="True when data was left out for its size.")
    note: str | None = Field(None, description="How to get the data that was left out.")


class NodeMeta(BaseModel):
    """What validation knows of a node without running it."""

    shape: list[int]
    dtype: str
    requires_grad: bool
    is_leaf: bool


class GradContribution(BaseModel):
    """The gradient one use of a shared tensor contributed; a node's gradient is the sum of these."""

    consumer: str = Field(description="The node that uses the tensor.")
    port: str = Field(description="The port of that node it is wired to.")
    grad: TensorPayload | None


class NodeResult(BaseModel):
    id: str
    op: str
    shape: list[int]
    dtype: str
    device: str
    requires_grad: bool
    is_leaf: bool
    grad_fn: str | None = Field(description="The autograd node that made this tensor, e.g. 'MmBackward0'.")
    version: int = Field(
        0,
        description="Its version counter (_version) after the run: how many in-place writes the tensor has had "
        "(a source's own filling, such as normal_(), not counted).",
    )
    value: TensorPayload
    grad: TensorPayload | None
    grad_note: str | None = Field(None, description="Why grad is null, when it is.")
    grad_passes: list[TensorPayload | None] | None = Field(
        None,
        description="With several backward passes: the gradient after each one (null where it had none yet); "
        "grad is the one after the last.",
    )
    contributions: list[GradContribution] | None = Field(
        None, description="For a tensor feeding several ops (weight sharing): each use's share of grad."
    )


class RunInfo(BaseModel):
    """The run as executed, with every default resolved."""

    seed: int
    device: str
    dtype: str
    output: str | None
    wrt: list[str] | None
    grad_output: Literal["sum", "ones"] | None
    backward_passes: int
    retain_graph: bool | None
    zero_grad: bool
    backward: str | None = Field(description="The backward call made, in PyTorch terms.")


class Timings(BaseModel):
    compile_ms: float
    forward_ms: float
    backward_ms: float
    encode_ms: float


class SavedTensor(BaseModel):
    """A tensor an autograd node saved for its backward (one of its `_saved_*` fields)."""

    name: str = Field(description="The field without its prefix: 'self' for _saved_self, 'result', 'mat2'…")
    shape: list[int]
    dtype: str
    node: str | None = Field(
        description="The node whose value it is, when it is that very tensor; null for one the op made itself."
    )
    state: Literal["kept", "freed", "overwritten"] = Field(
        description="After the run: still kept; freed by the last backward (retain_graph=False); or changed "
        "in place since it was saved, so that a backward through it would fail."
    )


class AutogradEdge(BaseModel):
    """One entry of an autograd node's next_functions: where the gradient of one of its op's
    inputs goes."""

    to: int = Field(description="The id of the autograd node it leads to.")
    slot: int = Field(description="Its position in next_functions: which input of the op.")


class AutogradNode(BaseModel):
    id: int
    name: str = Field(description="PyTorch's name, e.g. 'MmBackward0', 'AccumulateGrad'.")
    node: str | None = Field(
        description="The node whose op created it; for AccumulateGrad, the leaf it accumulates into."
    )
    next: list[AutogradEdge] = Field(description="next_functions, leaving out inputs that need no gradient.")
    saved: list[SavedTensor]


class AutogradRoot(BaseModel):
    """Where backward starts: run.output, a grad node's outputs, or a grad node's own result when
    create_graph recorded its derivative's graph."""

    node: str
    port: str | None = Field(description="The grad node's port ('outputs'), or null for the node's own value.")
    to: int = Field(description="The id of the root's autograd node (its grad_fn).")


class BackwardGraph(BaseModel):
    """The autograd graph the run built, as PyTorch holds it: every autograd node reached from the
    roots, through next_functions."""

    nodes: list[AutogradNode]
    roots: list[AutogradRoot]


class GradSent(BaseModel):
    """A gradient an autograd node sent on, to one of its next_functions (grad_inputs[slot])."""

    to: int = Field(description="The id of the autograd node it went to (in backward_graph).")
    slot: int = Field(description="Its position in next_functions: which input of the op.")
    grad: TensorPayload


class BackwardStep(BaseModel):
    """One autograd node as a backward pass executed it (a post-hook on the node saw it)."""

    backward_pass: int = Field(description="Which backward pass, from 0.")
    node: int = Field(description="The id of the autograd node in backward_graph.")
    grad_outputs: list[TensorPayload | None] = Field(
        description="The gradients that arrived, one per output of the forward op (null where none did): for "
        "AccumulateGrad, the sum of what its leaf's uses sent, added to the leaf's .grad."
    )
    sent: list[GradSent] = Field(
        description="What it sent on (grad_inputs), to the next autograd nodes; an input that needs no gradient "
        "gets none."
    )


class EvaluateResponse(BaseModel):
    run: RunInfo
    order: list[str] = Field(description="Node ids in the order they ran.")
    nodes: dict[str, NodeResult]
    timings: Timings
    backward_graph: BackwardGraph | None = Field(None, description="The autograd graph, when ?backward_graph=true.")
    backward_steps: list[BackwardStep] | None = Field(
        None,
        description="Every autograd node in the order the backward passes executed it, with the gradients that "
        "arrived and those it sent on, when ?backward_steps=true.",
    )


class Use(BaseModel):
    """One use of a node's value: the port of the node it feeds."""

    consumer: str = Field(description="The node that uses the value.")
    port: str = Field(description="Its port, e.g. 'input', or 'tensors[1]' for a list port.")


class SharedNode(BaseModel):
    """A tensor that requires grad and feeds several differentiable uses (weight sharing): its
    gradient is the sum of what each use sends back."""

    id: str
    uses: list[Use] = Field(description="Every use that sends a gradient back, in graph order.")


class ValidateResponse(BaseModel):
    valid: Literal[True] = True
    order: list[str]
    nodes: dict[str, NodeMeta]
    shared: list[SharedNode] = Field(
        description="Nodes whose gradient sums several uses (weight sharing); non-differentiable uses "
        "(detach) and tensors that need no gradient are left out."
    )
    estimated_bytes: int
    estimated_flops: float


class ErrorResponse(BaseModel):
    """Every problem found, each on its node and port, plus what is known of the nodes that are fine."""

    detail: str
    errors: list[GraphError]
    nodes: dict[str, NodeMeta] = Field(default_factory=dict)
    backward_graph: BackwardGraph | None = Field(
        None,
        description="When backward failed and ?backward_graph=true: the autograd graph as the failing pass "
        "found it, its saved tensors freed by an earlier pass or overwritten in place.",
    )


class PayloadOptions(BaseModel):
    """How tensors are returned."""

    encoding: Literal["base64", "list"] = "base64"
    max_elements: int | None = Field(
        None, ge=0, description="Tensors up to this size carry data; null: the server default."
    )
    full: list[str] = Field(default_factory=list, description="Node ids whose tensors come whole; '*' for all.")
    backward_graph: bool = Field(False, description="Also return the autograd graph the run built.")
    backward_steps: bool = Field(
        False, description="Also record each backward pass as PyTorch executed it (implies backward_graph)."
    )

    @model_validator(mode="after")
    def _steps_need_the_graph(self) -> PayloadOptions:
        # A step names its autograd node by its id in the backward graph: no steps without it.
        if self.backward_steps:
            self.backward_graph = True
        return self
