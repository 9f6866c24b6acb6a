# The hospital exporter: `hospital-exporter serve` by default; the same image runs
# `hospital-exporter connector apply` for the connector registration step.
FROM python:3.11.11-slim-bookworm

# pyodbc needs the unixODBC library at import; FreeTDS lets `simulate` reach SQL Server.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libodbc2 tdsodbc \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY exporter ./exporter
RUN pip install --no-cache-dir . && useradd --system --uid 10001 exporter

USER exporter
EXPOSE 9745
ENTRYPOINT ["hospital-exporter"]
CMD ["serve", "--config", "/etc/hospital/exporter.yml"]
