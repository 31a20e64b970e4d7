"""Dependencies shared by the routers, as Annotated aliases."""

from typing import Annotated

from fastapi import Depends

from dagrad.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]
