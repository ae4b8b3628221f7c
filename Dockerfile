# The distgate worker image. Not exercised by CI (no Docker engine there); see README.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DISTGATE_HTTP_HOST=0.0.0.0 \
    DISTGATE_DATA_DIR=/var/lib/distgate

WORKDIR /srv/distgate
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
COPY agents ./agents
COPY tables ./tables
COPY protocols ./protocols
COPY bench ./bench
RUN pip install -c constraints.txt ".[otlp]" \
    && useradd --system --uid 10001 --home /var/lib/distgate distgate \
    && mkdir -p /var/lib/distgate && chown distgate /var/lib/distgate

USER distgate
VOLUME /var/lib/distgate
EXPOSE 8080
# Alive means the API answers; whether it is ready (restored) is /readyz, for load balancers.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('DISTGATE_HTTP_PORT', '8080'), timeout=2)"]
# A non-loopback host needs DISTGATE_API_TOKENS_FILE: the worker refuses an open API otherwise.
ENTRYPOINT ["distgate"]
CMD ["worker"]
