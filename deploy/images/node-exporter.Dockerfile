# headroom/node-exporter:local — node_exporter from the host's Debian package, for machines with
# no registry. Real users keep prom/node-exporter (NODE_EXPORTER_IMAGE in deploy/.env). Same
# entrypoint, port and user as the official image. Built by deploy/images/build-exporter-images.sh.
ARG BASE_IMAGE=headroom/node-base:24
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.vendor=Headroom
COPY node_exporter /bin/node_exporter
USER 65534
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9100/"]
ENTRYPOINT ["/bin/node_exporter"]
