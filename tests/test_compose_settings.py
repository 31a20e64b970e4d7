"""docker-compose.yml passes every setting of Settings through to the container, and names no
setting that does not exist: a teacher sets any of them in `.env` and it takes effect."""

from __future__ import annotations

import re
from pathlib import Path

from dagrad.settings import Settings

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def test_the_compose_file_lists_every_setting() -> None:
    fields = {f"DAGRAD_{name.upper()}" for name in Settings.model_fields}
    listed = set(re.findall(r"^      - (DAGRAD_[A-Z_]+)", COMPOSE.read_text(), re.M))
    assert fields - listed == set(), "settings not passed on by docker-compose.yml"
    assert listed - fields == set(), "names in docker-compose.yml that are no setting"


def test_each_listed_setting_says_its_default() -> None:
    # "# DAGRAD_X (default): what it does" above each: the default shown is the one in force
    text = COMPOSE.read_text()
    for name, field in Settings.model_fields.items():
        if field.exclude:  # the tokens: no default to show
            continue
        env = f"DAGRAD_{name.upper()}"
        said = re.search(rf"# {env} \(([^)]*)\)", text)
        assert said is not None, f"{env} has no '# {env} (default): ...' line"
        shown = said.group(1).split(" = ")[0].split(" ")[0]
        default = field.default
        if isinstance(default, bool):
            continue
        if isinstance(default, (int, float)):
            assert float(shown) == float(default), (env, shown, default)
