"""Local stand-ins for the production services: real Kafka, Connect, PostgreSQL, Prometheus.

Every service binds 127.0.0.1 on a free port and is stopped by whoever started it. Used by the
test suite, the benchmarks and `make demo`.
"""
