"""Print dagrad's dependencies from pyproject.toml, one a line, for `pip install -r` (the Dockerfile).

    python requirements.py pyproject.toml [EXTRA,EXTRA...]

The project's dependencies, then those of each optional group named (comma-separated); the
Dockerfile installs them in a layer of their own, before dagrad's source is copied in.
"""

import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)["project"]
lines = list(project["dependencies"])
for extra in filter(None, (e.strip() for e in (sys.argv[2] if len(sys.argv) > 2 else "").split(","))):
    if extra not in project.get("optional-dependencies", {}):
        sys.exit(f"requirements.py: pyproject.toml has no optional group {extra!r}")
    lines += project["optional-dependencies"][extra]
print("\n".join(lines))
