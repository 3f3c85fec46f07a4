import pytest

from app.core.config import Settings, UnsafeConfiguration, check_production


def production(**overrides) -> Settings:
    values = dict(env="production", database_url="postgresql+asyncpg://hocso@db/hocso", secret_key="s" * 40,
                  public_base_url="https://hocso.example.gov.vn", metrics_token="m" * 40, sms_sender="http",
                  sms_http_url="https://sms.example.gov.vn/send", _env_file=None)
    return Settings(**(values | overrides))


def test_defaults_keep_all_local_state_in_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'hocso.db'}"
    assert settings.media_dir == tmp_path / "media" and settings.keys_dir == tmp_path / "keys"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_cors_origins_read_from_a_comma_separated_env_var(monkeypatch):
    monkeypatch.setenv("HOCSO_CORS_ORIGINS", "https://a.gov.vn, https://b.gov.vn")
    assert Settings(_env_file=None).cors_origins == ["https://a.gov.vn", "https://b.gov.vn"]


def test_production_refuses_sqlite_default_secret_and_missing_keys():
    with pytest.raises(UnsafeConfiguration) as err:
        check_production(Settings(env="production", _env_file=None))
    message = str(err.value)
    for setting in ("HOCSO_DATABASE_URL", "HOCSO_SECRET_KEY", "HOCSO_JWT_KEYS_DIR", "HOCSO_PUBLIC_BASE_URL"):
        assert setting in message


def test_production_refuses_development_keys(tmp_path):
    (tmp_path / "dev-20260101-abc.pem").write_text("x")
    with pytest.raises(UnsafeConfiguration, match="development keys"):
        check_production(production(jwt_keys_dir=tmp_path))


def test_production_accepts_a_complete_configuration(tmp_path):
    (tmp_path / "2026-11.pem").write_text("x")
    check_production(production(jwt_keys_dir=tmp_path))


@pytest.mark.parametrize("overrides, setting", [
    ({"db_echo": True}, "HOCSO_DB_ECHO"),
    ({"cors_origins": ["https://hocso.gov.vn", "*"]}, "HOCSO_CORS_ORIGINS"),
    ({"public_base_url": "http://hocso.example.gov.vn"}, "HOCSO_PUBLIC_BASE_URL"),
    ({"metrics_token": None}, "HOCSO_METRICS_TOKEN"),
])
def test_production_refuses_echoed_sql_open_cors_plain_http_and_public_metrics(tmp_path, overrides, setting):
    (tmp_path / "2026-11.pem").write_text("x")
    with pytest.raises(UnsafeConfiguration, match=setting):
        check_production(production(jwt_keys_dir=tmp_path, **overrides))


def test_trusted_proxies_are_addresses_or_networks():
    assert Settings(trusted_proxies="10.0.0.0/8, fd00::/8", _env_file=None).trusted_proxies == ["10.0.0.0/8",
                                                                                              "fd00::/8"]
    with pytest.raises(ValueError):
        Settings(trusted_proxies="10.0.0.300", _env_file=None)


@pytest.mark.parametrize(("host", "port", "url"), [
    ("127.0.0.1", 8123, "http://127.0.0.1:8123"), ("0.0.0.0", 8000, "http://127.0.0.1:8000"),
    ("hocso.local", 80, "http://hocso.local:80"), ("::1", 9000, "http://[::1]:9000"),
])
def test_in_development_the_public_address_is_where_the_server_listens(monkeypatch, host, port, url):
    monkeypatch.setenv("HOCSO_HOST", host)
    monkeypatch.setenv("HOCSO_PORT", str(port))
    assert Settings(_env_file=None).public_base_url == url
    monkeypatch.setenv("HOCSO_PUBLIC_BASE_URL", "https://hoc.example.vn/")
    assert Settings(_env_file=None).public_base_url == "https://hoc.example.vn"


@pytest.mark.parametrize("url", [None, "http://hocso.example.gov.vn", "https://localhost:8443"])
def test_production_requires_an_explicit_https_public_address(tmp_path, url):
    (tmp_path / "2026-11.pem").write_text("x")
    settings = production(jwt_keys_dir=tmp_path, public_base_url=url)
    assert settings.public_base_url == url
    with pytest.raises(UnsafeConfiguration, match="HOCSO_PUBLIC_BASE_URL must be set to the public https://"):
        check_production(settings)


def test_intake_csv_limits_read_their_new_names_and_the_round_1_cohort_names(monkeypatch):
    monkeypatch.setenv("HOCSO_COHORT_CSV_MAX_ROWS", "7")
    assert Settings(_env_file=None).intake_csv_max_rows == 7
    monkeypatch.setenv("HOCSO_INTAKE_CSV_MAX_BYTES", "1234")
    assert Settings(_env_file=None).intake_csv_max_bytes == 1234


def test_production_refuses_printing_phone_codes_and_incomplete_providers(tmp_path):
    (tmp_path / "2026-11.pem").write_text("x")
    with pytest.raises(UnsafeConfiguration) as err:
        check_production(production(jwt_keys_dir=tmp_path, sms_sender="console", oidc_providers=[
            {"name": "vneid", "client_id": "hocso", "issuer": "https://id.example"}]))
    assert "HOCSO_SMS_SENDER" in str(err.value) and "OIDC provider vneid" in str(err.value)


@pytest.mark.parametrize("algorithms", [["none"], ["HS256"], []])
def test_providers_pin_asymmetric_algorithms(algorithms):
    with pytest.raises(ValueError):
        Settings(_env_file=None, oidc_providers=[{"name": "x", "client_id": "c", "discovery_url": "https://x",
                                                  "algorithms": algorithms}])


def test_an_e_id_provider_must_name_its_national_id_claim():
    provider = {"name": "vneid", "client_id": "c", "discovery_url": "https://x", "assurance": "eid"}
    with pytest.raises(ValueError, match="needs national_id_claim"):
        Settings(_env_file=None, oidc_providers=[provider])
    accepted = Settings(_env_file=None, oidc_providers=[provider | {"national_id_claim": "so_dinh_danh"}])
    assert accepted.oidc_providers[0].national_id_claim == "so_dinh_danh"


def test_accepted_acr_defaults_to_the_levels_asked_for():
    base = {"name": "k", "client_id": "c", "discovery_url": "https://x"}
    assert Settings(_env_file=None, oidc_providers=[base | {"acr_values": "loa2 loa3"}]
                    ).oidc_providers[0].accepted_acr == ["loa2", "loa3"]
    assert Settings(_env_file=None, oidc_providers=[base | {"acr_values": "loa2", "accepted_acr": ["loa3"]}]
                    ).oidc_providers[0].accepted_acr == ["loa3"]
    assert Settings(_env_file=None, oidc_providers=[base]).oidc_providers[0].accepted_acr == []
