from tests.support.kafka_fixtures import kafka_broker  # noqa: F401
