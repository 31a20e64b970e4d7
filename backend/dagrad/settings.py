"""Every limit and default of the server, in one settings object.

Each field can be overridden by an environment variable named DAGRAD_<FIELD>,
for example DAGRAD_MAX_NODES=1000.

Who gets in (token, teacher_token, allowed_hosts; api/auth.py) is set the same way, but is left
out of every dump of the settings (exclude=True) and of their JSON schema: GET /api/health lists
the limits, and the worker processes get the settings as a command-line argument, which any local
user can read.
"""

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"]


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
    gradcheck_elements: int = Field(
        128, ge=1, description="Elements a gradient check moves, over all nodes, unless it asks for another number."
    )
    max_gradcheck_elements: int = Field(
        20000, ge=1, description="Most elements one gradient check may move (each costs two forward runs)."
    )
    shape_memo_bytes: int = Field(
        8 * 2**20,
        ge=0,
        description="Memory each worker's shape memo may take: shape inference results it remembers by exactly "
        "what determines them (op, attributes, input shapes and dtypes), about 1.5 KiB each and no tensor data. "
        "0 turns the memo off.",
    )
    # Presenter rooms (api/rooms.py).
    redis_url: str | None = Field(
        None,
        exclude=True,  # may hold a password: never in an answer
        description="Redis that several server processes or replicas share rooms through, e.g. "
        "redis://redis:6379/0. Unset: rooms live in this process, which is all one process needs.",
    )
    max_rooms: int = Field(50, ge=0, description="Most presenter rooms open at once.")
    max_followers: int = Field(
        200, ge=0, description="Most pages following one room, per server process (each replica has its own)."
    )
    max_room_message_bytes: int = Field(
        4 * 2**20,
        ge=1024,
        description="Largest state a presenter may send: the graph, the view and the last run's results "
        "(a page leaves the results out of a larger one, and its followers run the graph themselves).",
    )
    room_messages_per_second: float = Field(20.0, gt=0, description="Most states one room takes a second.")
    room_follower_queue: int = Field(
        16,
        ge=1,
        description="States waiting to be sent to one follower; one that falls further behind is dropped, "
        "and its page reconnects to the latest state.",
    )
    room_idle_seconds: float = Field(4 * 3600.0, gt=0, description="A room with no new state for this long closes.")

    # Training (training.py, api/training.py).
    max_train_steps: int = Field(10000, ge=1, description="Most optimiser steps of one training run.")
    max_train_seconds: float = Field(
        300.0, gt=0, description="Wall time after which a training run stops (done, reason time_limit)."
    )
    max_training_runs: int = Field(
        2, ge=0, description="Training runs at once, per server process; each has a worker process of its own."
    )
    max_training_runs_per_client: int = Field(
        1, ge=0, description="Training runs at once of one client (by its token, else its address)."
    )
    train_idle_seconds: float = Field(
        600.0, gt=0, description="A paused training run that gets no message for this long is stopped."
    )
    train_threads: int = Field(
        1, ge=1, description="PyTorch's threads in a training worker: few, so that evaluates keep their cores."
    )

    token: SkipJsonSchema[str | None] = Field(
        None,
        exclude=True,
        description="The class token (DAGRAD_TOKEN): when set, every request but the page, its assets, /docs and "
        "GET /api/health must carry it (cookie dagrad_token, Authorization: Bearer, or a ?token= link).",
    )
    teacher_token: SkipJsonSchema[str | None] = Field(
        None,
        exclude=True,
        description="The teacher token (DAGRAD_TEACHER_TOKEN): guards the presenter controls; it also passes "
        "where the class token does.",
    )
    # NoDecode: pydantic-settings reads a list from the environment as JSON; a comma-separated
    # string is what people write (DAGRAD_ALLOWED_HOSTS=dagrad.school.example,10.0.0.5).
    allowed_hosts: SkipJsonSchema[Annotated[list[str], NoDecode]] = Field(
        default_factory=lambda: list(LOOPBACK_HOSTS),
        exclude=True,
        description="Host names the server answers to (the Host header, against DNS rebinding); '*' for any, "
        "'*.example.org' for its subdomains.",
    )

    @field_validator("token", "teacher_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        # DAGRAD_TOKEN= (as compose files write an unset variable) means no token, not the empty one.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            hosts = [h.strip().lower().strip("[]").rstrip(".") for h in value if isinstance(h, str) and h.strip()]
            return hosts or list(LOOPBACK_HOSTS)  # DAGRAD_ALLOWED_HOSTS= : the default, not no host at all
        return value
