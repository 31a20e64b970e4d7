"""GET /api/health: liveness, devices and the limits in force; versions for the teacher only.

Open without the class token (api/auth.py): health probes and the page before it asks for one
call it. So it tells what a client needs and nothing that helps an attacker pick an exploit: the
versions of dagrad, PyTorch and Python come only to a request with the teacher token.
"""

from __future__ import annotations

import platform

import torch
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from dagrad import __version__
from dagrad.api.auth import is_teacher
from dagrad.api.deps import SettingsDep
from dagrad.settings import Settings

router = APIRouter(prefix="/api", tags=["health"])


class Health(BaseModel):
    status: str
    version: str | None = Field(None, description="dagrad's version; null unless the teacher token is sent.")
    torch: str | None = Field(None, description="PyTorch's version; null unless the teacher token is sent.")
    python: str | None = Field(None, description="Python's version; null unless the teacher token is sent.")
    devices: list[str]
    cuda_devices: list[str]
    limits: Settings = Field(description="Every limit in force (the settings, less who gets in).")


@router.get("/health", operation_id="health-get")
def health(request: Request, settings: SettingsDep) -> Health:
    cuda = torch.cuda.is_available()
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else []
    teacher = is_teacher(request, settings)
    return Health(
        status="ok",
        version=__version__ if teacher else None,
        torch=torch.__version__ if teacher else None,
        python=platform.python_version() if teacher else None,
        devices=["cpu", "cuda"] if cuda else ["cpu"],
        cuda_devices=names,
        limits=settings,
    )
