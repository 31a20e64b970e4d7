"""Every limit and default of the server, in one settings object.

Each field can be overridden by an environment variable named DAGRAD_<FIELD>,
for example DAGRAD_MAX_NODES=1000.
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAGRAD_")

    max_nodes: int = Field(500, description="Most nodes one graph may hold.")
    max_tensor_elements: int = Field(2**26, description="Most elements of any one tensor (value or gradient).")
    max_run_bytes: int = Field(2 * 2**30, description="Estimated bytes of all values and gradients of one run.")
    max_flops: float = Field(
        2e11, description="Estimated floating point operations of one run: its forward pass and every backward pass."
    )
    max_body_bytes: int = Field(16 * 2**20, description="Largest accepted request body.")
    max_run_seconds: float = Field(
        30.0, gt=0, description="Wall time after which a run is stopped: its worker process is ended and replaced."
    )
    default_payload_elements: int = Field(
        65536, description="Tensors up to this many elements carry their data by default."
    )
    max_payload_elements: int = Field(2**24, description="Most elements of one tensor's data a client may ask for.")
    max_response_bytes: int = Field(
        128 * 2**20,
        ge=0,
        description="Largest answer of /api/evaluate, as bounded from the plan before the run (every value and "
        "gradient with the data asked for): a request over it is refused with how to ask for less.",
    )
    max_backward_passes: int = Field(8, description="Most backward passes of one run.")
    max_concurrent_runs: int = Field(
        2,
        ge=1,
        description="Runs holding tensors at once, per server process (uvicorn worker); each runs in a worker "
        "process of its own.",
    )
    queue_seconds: float = Field(30.0, ge=0, description="How long a run waits for a free slot before a 503.")
    spare_workers: int = Field(
        1,
        ge=0,
        description="Worker processes kept beyond max_concurrent_runs, per server process: one is ready when "
        "another is being replaced (after a time-out), and validation can run while every run slot is taken.",
    )
    worker_threads: int = Field(
        0,
        ge=0,
        description="PyTorch's threads in each worker process; 0: the machine's cores shared among the "
        "max_concurrent_runs runs that may go at once (at least one each).",
    )
    shape_memo_bytes: int = Field(
        8 * 2**20,
        ge=0,
        description="Memory each worker's shape memo may take: shape inference results it remembers by exactly "
        "what determines them (op, attributes, input shapes and dtypes), about 1.5 KiB each and no tensor data. "
        "0 turns the memo off.",
    )
