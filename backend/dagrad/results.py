"""Response models: what the API returns about a graph, its values and its gradients."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    training: bool = Field(description="The train/eval switch of batch_norm and dropout (run.training).")
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


class CheckResult(BaseModel):
    """One of an exercise's checks (the document's meta.exercise.checks), against this run."""

    node: str
    of: Literal["value", "grad"]
    passed: bool
    max_abs_error: float | None = Field(
        description="The largest |run - expected| over the elements; null when they were not compared (no such "
        "node, no gradient, another shape) or when the run's tensor is not finite."
    )
    mismatched: int | None = Field(
        description="How many elements differ by more than atol + rtol * |expected|; null when not compared."
    )
    rtol: float
    atol: float
    message: str = Field(description="The verdict in words: what matches, or what differs and where.")


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
    checks: list[CheckResult] | None = Field(
        None, description="The exercise's checks (meta.exercise.checks), each against this run; null when it has none."
    )
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


def _node_torch() -> Any:
    return Field(
        default_factory=dict,
        description="Each node as a line of PyTorch, by id: its op called on the nodes wired to it (a port not "
        "wired yet by the port's name), with its attributes as set, those at their default left out: "
        "'F.relu(x, inplace=True)'. Nodes whose op or attributes are in error are left out.",
    )


class WindowInfo(BaseModel):
    """One spatial dimension of a conv or pool: out = floor((in + 2·padding − dilation·(k − 1) − 1) / stride) + 1
    (ceil with ceil_mode), the effective kernel 1 + (k − 1)·dilation."""

    size_in: int
    padding: int
    dilation: int
    kernel: int
    effective: int = Field(description="1 + (kernel - 1) * dilation: the span the kernel covers.")
    stride: int
    size_out: int
    ceil_mode: bool
    formula: str = Field(
        description="The arithmetic with the numbers filled in, e.g. floor((20 + 2·0 − 4·(3 − 1) − 1) / 1) + 1 = 12."
    )


class ValidateResponse(BaseModel):
    """A graph without errors: every node's shape, the shared nodes, and the estimated cost."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    valid: Literal[True] = True
    order: list[str]
    nodes: dict[str, NodeMeta]
    shared: list[SharedNode] = Field(
        description="Nodes whose gradient sums several uses (weight sharing); non-differentiable uses "
        "(detach) and tensors that need no gradient are left out."
    )
    estimated_bytes: int
    estimated_flops: float
    torch: dict[str, str] = _node_torch()
    windows: dict[str, list[WindowInfo]] = Field(
        default_factory=dict,
        description="Per conv and pool node, its output-size arithmetic per spatial dimension, numbers filled in.",
    )


class InvalidGraph(BaseModel):
    """A graph with errors, as POST /api/validate answers it: a validation that succeeded in finding
    them (200). `detail`, `errors` and `nodes` are those of the 422 POST /api/evaluate answers."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    valid: Literal[False] = False
    detail: str
    errors: list[GraphError]
    nodes: dict[str, NodeMeta] = Field(
        default_factory=dict, description="What could still be inferred: the nodes that are fine."
    )
    torch: dict[str, str] = _node_torch()


# POST /api/validate's answer, told apart by `valid` (a boolean: OpenAPI's discriminator takes
# strings only, so the schema is a plain union, and every field of both is always present).
Validation = ValidateResponse | InvalidGraph


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


class GradcheckNode(BaseModel):
    """One node's gradient against central finite differences."""

    node: str = Field(description="The node whose gradient, or for a grad node its value, was checked.")
    kind: Literal["gradient", "derivative"] = Field(
        description="'gradient': the node's gradient of run.output; 'derivative': a grad node's value, "
        "the derivative of its outputs with respect to its inputs."
    )
    moved: str = Field(description="The node whose elements were moved: this one, or a grad node's inputs.")
    numel: int = Field(description="Elements of its gradient.")
    checked: int = Field(description="Elements moved to check it.")
    sampled: bool = Field(description="True when only a seeded sample of its elements was checked.")
    max_abs_error: float = Field(description="Largest |analytic - numeric| over the elements checked.")
    max_rel_error: float = Field(description="Largest |analytic - numeric| / max(|analytic|, |numeric|).")
    failing: int = Field(description="Elements outside the tolerance: |analytic - numeric| > atol + rtol * |numeric|.")
    kinks: int = Field(
        description="Elements where the function has a kink (a tie of max pooling, relu at 0): the one-sided "
        "differences disagree and autograd's value is one of them. Not counted as failing, nor in the errors."
    )
    ok: bool = Field(description="Every element checked is within the tolerance.")
    worst_index: list[int] = Field(description="Where the largest absolute error is.")
    worst_analytic: float = Field(description="The gradient autograd gave there.")
    worst_numeric: float = Field(description="The finite difference there.")


class GradcheckResponse(BaseModel):
    """Every gradient the run returns against central finite differences, in float64, with one
    backward pass: the verdict torch.autograd.gradcheck gives, per element."""

    eps: float = Field(description="How far each element is moved, each way.")
    atol: float
    rtol: float
    dtype: Literal["float64"] = Field(description="What the check ran in, whatever the graph's dtype.")
    max_elements: int = Field(description="The budget: most elements moved, over all nodes.")
    elements_checked: int
    elements_total: int = Field(description="Elements of every gradient; above max_elements, a sample is checked.")
    sampled: bool = Field(description="True when some node's elements were sampled (seeded by run.seed).")
    ok: bool = Field(description="Every node agrees.")
    nodes: list[GradcheckNode]
    seconds: float


class PerSampleParam(BaseModel):
    """One parameter's per-sample gradients."""

    node: str
    grad: TensorPayload = Field(description="Its gradient for the sample asked for alone.")
    norms: list[float] = Field(description="The 2-norm of each sample's gradient, in batch order.")
    sum_error: float = Field(
        description="Largest |sum of the samples' gradients - the batch gradient|, over the batch gradient's largest "
        "|element|: about 0 for a sum-reduced loss."
    )
    mean_error: float = Field(description="The same for their mean: about 0 for a mean-reduced loss.")


class PerSampleResponse(BaseModel):
    """Each sample's gradient with respect to each parameter: that of the loss of the graph fed with
    that sample alone (a batch of one)."""

    batch_size: int
    batch: list[str] = Field(description="The sources fed one sample at a time.")
    sample: int = Field(description="The sample whose input and gradients are given in full.")
    method: Literal["vmap", "loop"] = Field(
        description="torch.func.vmap over torch.func.grad, or a loop of one backward per sample where an op "
        "cannot be vmapped."
    )
    inputs: dict[str, TensorPayload] = Field(description="That sample of each batch source.")
    params: list[PerSampleParam]
    seconds: float


class FieldMask(BaseModel):
    """A set of elements of one tensor, exactly (dilation and stride leave holes): a bit per element."""

    count: int = Field(description="How many elements are in the set.")
    extent: list[list[int]] | None = Field(
        description="Per dimension, [first, last] index that the set reaches; null when it is empty."
    )
    bits: str = Field(
        description="base64 of one bit per element, row-major, least significant bit first "
        "(numpy.packbits(..., bitorder='little')); element i is bit i % 8 of byte i // 8."
    )


class UpstreamField(BaseModel):
    """One upstream node: the elements that can influence the clicked element, and those whose
    gradient is non-zero."""

    node: str
    shape: list[int]
    structural: FieldMask | None = Field(
        description="Elements that can influence the clicked element whatever the data, from the ops' "
        "shapes and attributes; null when an op on the way has no receptive rule (see structural_note)."
    )
    structural_note: str | None = None
    gradient: FieldMask | None = Field(
        description="Elements where d(clicked element)/d(this tensor) is non-zero for this run's data; null "
        "when this tensor has no gradient (see gradient_note)."
    )
    gradient_note: str | None = None


class ReceptiveFieldResponse(BaseModel):
    """The receptive field of one element: on every node upstream of it, its structural region and
    its gradient support (torch.autograd.grad with a one-hot grad_outputs)."""

    node: str
    index: list[int]
    shape: list[int]
    value: float | None = Field(description="The clicked element's value in this run; null if not finite.")
    fields: list[UpstreamField] = Field(description="Every upstream node, in plan order.")
    seconds: float
