from tests.s3_server import s3_endpoint, s3_settings  # noqa: F401  (fixtures)
