# A balancer for scripts/swarm-test.sh on a kernel without IPVS (no swarm routing mesh), built by
# docker/lib.sh: Debian bookworm's HAProxy with docker/swarm-balancer.cfg.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY swarm-balancer.cfg /etc/haproxy/haproxy.cfg
USER haproxy
EXPOSE 8000
CMD ["haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
