"""Live hospital KPIs from Debezium change events, served as Prometheus metrics and /stats."""

__version__ = "0.1.0"
