"""GET /api/health: liveness, versions, devices and the limits in force."""

from __future__ import annotations

import torch
from fastapi import APIRouter
from pydantic import BaseModel

from dagrad import __version__
from dagrad.api.deps import SettingsDep
from dagrad.settings import Settings

router = APIRouter(prefix="/api", tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    torch: str
    devices: list[str]
    cuda_devices: list[str]
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
        limits=settings,
    )
