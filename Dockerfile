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
RUN pip install -c constraints.txt . \
    && useradd --system --home /var/lib/distgate distgate \
    && mkdir -p /var/lib/distgate && chown distgate /var/lib/distgate

USER distgate
VOLUME /var/lib/distgate
EXPOSE 8080
# A non-loopback host needs DISTGATE_API_TOKENS_FILE: the worker refuses an open API otherwise.
ENTRYPOINT ["distgate"]
CMD ["worker"]
