"""Dependencies shared by the routers, as Annotated aliases."""

from typing import Annotated

from fastapi import Depends, Request

from dagrad.settings import Settings


async def app_settings(request: Request) -> Settings:
    # async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
    # that cost more than the 4.1 DAG's whole evaluation on a loaded 2-core machine.
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]
