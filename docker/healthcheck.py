"""The image's HEALTHCHECK: GET /api/health on this container's port 8000, healthy on a 200.

Only the standard library (no curl in the image). The Host header is the first name of
DAGRAD_ALLOWED_HOSTS when that is set (so a server that only answers its own names still
answers), else localhost.
"""

import os
import sys
import urllib.request

names = [n.strip() for n in os.environ.get("DAGRAD_ALLOWED_HOSTS", "").split(",") if n.strip()]
host = next((n for n in names if "*" not in n), "localhost")
request = urllib.request.Request("http://127.0.0.1:8000/api/health", headers={"Host": host})
try:
    with urllib.request.urlopen(request, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # any failure is unhealthy; say why in `docker inspect`
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
