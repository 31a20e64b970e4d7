# A local stand-in for python:3.11-slim, built by docker/lib.sh from a debootstrapped
# Debian bookworm (Docker Hub is out of reach here): Debian's Python 3.11 with venv and pip.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/python3 /usr/local/bin/python
CMD ["python3"]
