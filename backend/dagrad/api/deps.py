"""Dependencies shared by the routers, as Annotated aliases."""

from typing import Annotated

from fastapi import Depends, Request

from dagrad.api.workers import WorkerPool
from dagrad.settings import Settings

# Both async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
# that cost more than the 4.1 DAG's whole evaluation on a loaded 2-core machine.


async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def app_pool(request: Request) -> WorkerPool:
    pool: WorkerPool = request.app.state.pool
    return pool


SettingsDep = Annotated[Settings, Depends(app_settings)]
PoolDep = Annotated[WorkerPool, Depends(app_pool)]
