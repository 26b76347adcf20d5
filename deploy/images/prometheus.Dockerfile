# headroom/prometheus:local — Prometheus from the host's Debian package, for machines with no
# registry (CI, the end-to-end tests). Real users keep prom/prometheus (PROMETHEUS_IMAGE in
# deploy/.env). Same entrypoint, port, user and data path as the official image, so the compose
# file's command works with either. Built by deploy/images/build-exporter-images.sh.
ARG BASE_IMAGE=headroom/node-base:24
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.vendor=Headroom
COPY prometheus promtool /bin/
COPY web /usr/share/prometheus/web
COPY prometheus.yml /etc/prometheus/prometheus.yml
RUN ["/bin/sh", "-c", "mkdir -p /prometheus /etc/prometheus && chown 65534:65534 /prometheus"]
USER 65534
WORKDIR /prometheus
EXPOSE 9090
HEALTHCHECK --interval=5s --timeout=3s --retries=3 CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/ready"]
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
