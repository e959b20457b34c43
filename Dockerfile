# The service image used by docker-compose.yml (`facility run`, `facility collect`,
# `facility simulate`).
FROM python:3.11-slim
# Pango for the PDF reports (WeasyPrint), a CJK font so Chinese text renders in them.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ingest ingest
COPY rules rules
COPY maintenance maintenance
COPY api api
COPY simulators simulators
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/facility facility \
    && mkdir -p /var/lib/facility && chown facility /var/lib/facility
USER facility
ENV FACILITY_STATE_DIR=/var/lib/facility FACILITY_HTTP_HOST=0.0.0.0
EXPOSE 8000
ENTRYPOINT ["facility"]
CMD ["run"]
