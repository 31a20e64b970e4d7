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
    max_flops: float = Field(2e11, description="Estimated floating point operations of one forward pass.")
    max_body_bytes: int = Field(16 * 2**20, description="Largest accepted request body.")
    max_run_seconds: float = Field(30.0, description="Wall time after which a run is stopped.")
    default_payload_elements: int = Field(
        65536, description="Tensors up to this many elements carry their data by default."
    )
    max_payload_elements: int = Field(2**24, description="Most elements of one tensor's data a client may ask for.")
    max_backward_passes: int = Field(8, description="Most backward passes of one run.")
    max_concurrent_runs: int = Field(
        2, ge=1, description="Runs holding tensors at once, per server process (uvicorn worker)."
    )
    queue_seconds: float = Field(30.0, ge=0, description="How long a run waits for a free slot before a 503.")
    inline_max_nodes: int = Field(
        32,
        ge=0,
        description="Graphs up to this many nodes are compiled on the server's event loop, and run there when "
        "they are also under inline_max_flops and inline_max_bytes: handing them to a worker thread would cost "
        "more than running them. 0 sends every graph to a thread.",
    )
    inline_max_flops: float = Field(1e6, ge=0, description="See inline_max_nodes.")
    inline_max_bytes: int = Field(2**20, ge=0, description="See inline_max_nodes.")
    shape_memo_entries: int = Field(
        4096,
        ge=0,
        description="Shape inference results the engine remembers, by exactly what determines them (op, "
        "attributes, input shapes and dtypes): about 0.5 KiB each and no tensor data, so the server's memory stays "
        "within max_concurrent_runs * max_run_bytes plus about 2 MiB. 0 turns the memo off.",
    )
