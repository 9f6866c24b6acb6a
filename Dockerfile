# The hospital exporter: `hospital-exporter serve` by default; the same image runs
# `hospital-exporter connector apply` for the connector registration step.

# The build stage compiles the decoder's C extension into a wheel, so the runtime image needs
# no compiler.
FROM python:3.11.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY exporter ./exporter
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11.11-slim-bookworm

# pyodbc needs the unixODBC library at import; FreeTDS lets `simulate` reach SQL Server.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libodbc2 tdsodbc \
    && rm -rf /var/lib/apt/lists/*

COPY --from=build /wheels /tmp/wheels
# The extension is optional for a source install, not for the image: fail the build without it.
# The confluent extra lets kafka.client-library choose librdkafka (its wheel bundles it).
RUN wheel="$(ls /tmp/wheels/*.whl)" \
    && pip install --no-cache-dir "${wheel}[confluent]" \
    && python -c "import exporter._rowscan, confluent_kafka" \
    && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 exporter

USER exporter
EXPOSE 9745
ENTRYPOINT ["hospital-exporter"]
CMD ["serve", "--config", "/etc/hospital/exporter.yml"]
