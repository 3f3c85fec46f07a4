from tests import s3_server

s3_endpoint, s3_settings = s3_server.s3_endpoint, s3_server.s3_settings  # fixtures
