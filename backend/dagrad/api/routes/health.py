"""GET /api/health: liveness, versions, devices and the limits in force."""

from __future__ import annotations

import torch
from fastapi import APIRouter
from pydantic import BaseModel, Field

from dagrad import __version__, payload
from dagrad.api.deps import SettingsDep
from dagrad.settings import Settings

router = APIRouter(prefix="/api", tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    torch: str
    devices: list[str]
    cuda_devices: list[str]
    native_stats: bool = Field(
        description="Whether the C extension dagrad._moments was built: it takes large CPU tensors' statistics "
        "in one pass. Without it (no C compiler at install) PyTorch's reductions give the same numbers, slower."
    )
    limits: Settings


@router.get("/health", operation_id="health-get")
def health(settings: SettingsDep) -> Health:
    cuda = torch.cuda.is_available()
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else []
    return Health(
        status="ok",
        version=__version__,
        torch=torch.__version__,
        devices=["cpu", "cuda"] if cuda else ["cpu"],
        cuda_devices=names,
        native_stats=payload.native(),
        limits=settings,
    )
