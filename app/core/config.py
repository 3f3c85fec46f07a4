"""Settings from the environment (`HOCSO_*`) and `.env`; production refuses unsafe defaults."""

from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.client_address import IPNetwork, parse_networks

DEV_SECRET = "dev-insecure-change-me"


class OidcProvider(BaseModel):
    """One OpenID Connect provider HocSo signs people in with (docs/identity.md shows the national gateway's)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9-]{1,40}$")  # in URLs: /api/v1/auth/oidc/{name}/…
    title: str = ""  # what a sign-in button says
    discovery_url: str | None = None  # …/.well-known/openid-configuration; or the explicit endpoints below
    issuer: str | None = None
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    jwks_uri: str | None = None
    client_id: str
    client_secret: str | None = None
    token_auth_method: Literal["client_secret_basic", "client_secret_post", "none"] = "client_secret_basic"
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile"])
    acr_values: str | None = None  # asked for, space-separated as in the request
    # What the ID token's `acr` may say when acr_values is asked for; default: the levels asked for (a provider
    # may answer with a higher one, which the operator then lists here)
    accepted_acr: list[str] = Field(default_factory=list)
    algorithms: list[str] = Field(default_factory=lambda: ["RS256"])  # pinned; never "none"
    # Claim names: the 12-digit personal identification number, full name and date of birth
    national_id_claim: str | None = None
    name_claim: str = "name"
    birth_date_claim: str | None = "birthdate"
    assurance: Literal["none", "eid"] = "none"  # what a sign-in proves: "eid" only for the national gateway

    @field_validator("algorithms")
    @classmethod
    def _no_none(cls, algorithms: list[str]) -> list[str]:
        if not algorithms or any(a.lower() == "none" or a.startswith("HS") for a in algorithms):
            raise ValueError("algorithms must be asymmetric signature algorithms such as RS256")
        return algorithms

    @model_validator(mode="after")
    def _assurance_rules(self) -> "OidcProvider":
        if self.assurance == "eid" and not self.national_id_claim:
            # Without the national ID a second e-ID provider (or a partner record) would make a second account
            raise ValueError(f"provider {self.name}: assurance \"eid\" needs national_id_claim, the claim "
                             "carrying the 12-digit personal identification number (one person, one account)")
        if self.acr_values and not self.accepted_acr:
            self.accepted_acr = self.acr_values.split()
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOCSO_", env_file=".env", extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./var")
    database_url: str | None = None
    db_pool_size: int = 30  # about one worker's concurrency: overflow connections are closed on return (churn)
    db_max_overflow: int = 10
    db_pre_ping: bool = False  # True: 3 round trips per checkout; False: drop connections the server closed
    db_echo: bool = False

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Where people reach the service (media URLs, QR codes, verification links, credentials). Outside production,
    # unset means the address the server listens on; production requires it, on https.
    public_base_url: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    metrics_token: str | None = None  # /metrics needs `Authorization: Bearer <this>` when set (production: must)

    # Keys and secrets
    secret_key: str = DEV_SECRET
    jwt_keys_dir: Path | None = None
    jwt_signing_kid: str | None = None
    jwt_issuer: str = "https://hocso.gov.vn"
    jwt_audience: str = "hocso-api"
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_days: int = 30
    service_token_ttl_s: int = 60 * 60

    # Abuse limits. Sign-in: failures are remembered for login_lockout_s; past login_max_failures on one
    # account (login_ip_max_failures from one address, much higher: a carrier NAT or an office is many
    # learners) each further failure locks that key a little longer, 1 s doubling up to login_max_lock_s.
    login_max_failures: int = 5
    login_ip_max_failures: int = 100
    login_lockout_s: int = 15 * 60
    login_max_lock_s: int = Field(default=60, ge=1)
    verify_rate_per_minute: int = 30
    register_rate_per_hour: int = Field(default=30, ge=1)
    # refusals per province-scoped partner client an hour of learners outside its province (docs/reporting.md)
    partner_elsewhere_per_hour: int = Field(default=30, ge=1)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    redis_url: str | None = None  # rate limits shared by every worker and host; memory per process without
    # JSON and form bodies (uploads excepted): a partner batch of 1,000 or an offline batch of 500 fits
    json_body_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    header_max_bytes: int = Field(default=32 * 1024, ge=1024)  # all request headers together
    body_timeout_s: float = Field(default=30.0, gt=0)  # a JSON or form body must arrive within this
    # a request line and headers must arrive within this of their first byte (or of the connection's opening):
    # seconds of weak 3G are far below it, a header line every 2 s is not (app/core/request_head.py)
    header_timeout_s: float = Field(default=20.0, gt=0)

    # Object storage
    storage: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "hocso"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_path_style: bool = False
    s3_multipart_threshold: int = 16 * 1024 * 1024
    s3_part_size: int = 16 * 1024 * 1024
    media_url_ttl_s: int = 15 * 60
    upload_url_ttl_s: int = 60 * 60

    # Course packages
    package_max_bytes: int = 20 * 1024**3
    package_max_entries: int = 2000
    package_max_uncompressed_bytes: int = 30 * 1024**3
    package_max_ratio: int = 100

    # SCORM: how long a launch's player, content and runtime links work; the least time an attempt must
    # report (its sessions' time, capped by wall-clock time) before its lesson counts (0: no minimum)
    scorm_session_ttl_s: int = Field(default=4 * 3600, ge=300, le=24 * 3600)
    scorm_min_time_s: float = Field(default=0, ge=0)

    # Video renditions (HLS ladder, offline MP4): ffmpeg from the worker, limited in number and CPU threads
    video_renditions: bool = True
    ffmpeg_path: str = "ffmpeg"
    ffprobe_path: str = "ffprobe"
    video_max_transcodes: int = Field(default=1, ge=1)  # at once, across every worker process
    video_transcode_threads: int = Field(default=2, ge=1)
    video_preset: str = "veryfast"  # x264 speed/size trade-off
    video_transcode_timeout_ratio: float = Field(default=10.0, gt=0)  # wall seconds per second of video

    # Background jobs
    run_worker_in_process: bool = True
    job_poll_interval_s: float = 1.0
    # A certificate job that failed because storage or the database stayed down is re-queued by housekeeping
    # once it has been failed this long (the outage has likely passed; a still-down one just fails again).
    job_outage_requeue_after_s: float = Field(default=6 * 3600.0, gt=0)

    # Learning: how long a heartbeat's event id is kept for idempotent replays (offline sync older than this
    # is refused), and how often the worker deletes older ones
    progress_event_retention_days: int = Field(default=14, ge=1, le=3650)
    housekeeping_interval_s: float = Field(default=3600.0, gt=0)

    # Certificates
    issuing_body: str = "Bộ Khoa học và Công nghệ"
    issuing_place: str = "Hà Nội"  # printed before the date of issue ("Hà Nội, ngày 04 tháng 12 năm 2026")

    # Reporting: how stale a cached stats answer may be (0 turns the cache off), and intake upload limits
    stats_cache_ttl_s: float = 30.0
    # Catalogue: how long one worker reuses a rendered catalogue page (0 turns the cache off)
    catalogue_cache_ttl_s: float = 5.0
    # Intake member CSV limits; the round-1 names HOCSO_COHORT_CSV_* still work.
    intake_csv_max_bytes: int = Field(2 * 1024 * 1024, validation_alias=AliasChoices(
        "HOCSO_INTAKE_CSV_MAX_BYTES", "HOCSO_COHORT_CSV_MAX_BYTES"))
    intake_csv_max_rows: int = Field(10_000, validation_alias=AliasChoices(
        "HOCSO_INTAKE_CSV_MAX_ROWS", "HOCSO_COHORT_CSV_MAX_ROWS"))
    units_csv_max_bytes: int = 2 * 1024 * 1024  # a province's headcount list (units × officials)
    units_csv_max_rows: int = 20_000
    ranking_min_headcount: int = 10  # units with fewer officials are listed but not ranked

    # Identity: OpenID Connect providers (JSON list; docs/identity.md), where their sign-ins may return to,
    # phone one-time codes and the SMS sender that carries them
    oidc_providers: list[OidcProvider] = Field(default_factory=list)
    oidc_return_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_flow_ttl_s: int = Field(default=600, ge=60, le=3600)
    oidc_handoff_ttl_s: int = Field(default=60, ge=10, le=600)
    oidc_http_timeout_s: float = Field(default=10.0, gt=0)
    otp_ttl_s: int = Field(default=300, ge=60, le=1800)
    otp_max_attempts: int = Field(default=5, ge=1, le=10)
    otp_resend_interval_s: int = Field(default=60, ge=0)
    otp_max_per_phone_per_hour: int = Field(default=5, ge=1)
    otp_max_per_client_per_hour: int = Field(default=20, ge=1)
    sms_sender: Literal["console", "file", "http"] = "console"
    sms_file: Path | None = None  # the file sender's outbox; default <data dir>/sms-outbox.jsonl
    sms_http_url: str | None = None
    sms_http_username: str | None = None
    sms_http_password: str | None = None
    sms_http_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("cors_origins", "trusted_proxies", "oidc_return_urls", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @model_validator(mode="after")
    def _public_base_url_from_listen_address(self) -> "Settings":
        if self.public_base_url is None and self.env != "production":
            self.public_base_url = listen_url(self.host, self.port)
        elif self.public_base_url is not None:
            self.public_base_url = self.public_base_url.rstrip("/")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'hocso.db').resolve()}"

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)  # a typo fails at start, not silently as "no proxy"
        return value

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def keys_dir(self) -> Path:
        return self.jwt_keys_dir or self.data_dir / "keys"

    @property
    def sms_outbox(self) -> Path:
        return self.sms_file or self.data_dir / "sms-outbox.jsonl"

    def oidc_provider(self, name: str) -> OidcProvider | None:
        return next((p for p in self.oidc_providers if p.name == name), None)

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    def production_problems(self) -> list[str]:
        """What makes this configuration unsafe for production, in words an operator can act on."""
        problems = []
        if self.is_sqlite:
            problems.append("HOCSO_DATABASE_URL must point to PostgreSQL (postgresql+asyncpg://…), not SQLite")
        if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
            problems.append("HOCSO_SECRET_KEY must be set to a random value of at least 32 characters")
        if self.jwt_keys_dir is None:
            problems.append("HOCSO_JWT_KEYS_DIR must point to mounted RSA private keys (<kid>.pem)")
        else:
            pems = list(self.jwt_keys_dir.glob("*.pem")) if self.jwt_keys_dir.is_dir() else []
            if not pems:
                problems.append(f"HOCSO_JWT_KEYS_DIR={self.jwt_keys_dir} holds no <kid>.pem key")
            elif any(p.stem.startswith("dev-") for p in pems):
                problems.append("HOCSO_JWT_KEYS_DIR holds development keys (dev-*.pem); mount production keys")
        if self.storage == "s3" and not (self.s3_access_key_id and self.s3_secret_access_key):
            problems.append("HOCSO_S3_ACCESS_KEY_ID and HOCSO_S3_SECRET_ACCESS_KEY must be set")
        for provider in self.oidc_providers:
            if provider.discovery_url is None and not (provider.issuer and provider.authorization_endpoint
                                                       and provider.token_endpoint and provider.jwks_uri):
                problems.append(f"OIDC provider {provider.name}: give discovery_url, or issuer, "
                                "authorization_endpoint, token_endpoint and jwks_uri")
        if self.sms_sender == "http" and not self.sms_http_url:
            problems.append("HOCSO_SMS_HTTP_URL must be set with HOCSO_SMS_SENDER=http")
        if self.sms_sender == "console":
            problems.append("HOCSO_SMS_SENDER=console only prints codes; set http (or file) in production")
        url = self.public_base_url or ""
        if not url.startswith("https://") or "127.0.0.1" in url or "localhost" in url:
            problems.append("HOCSO_PUBLIC_BASE_URL must be set to the public https:// address of the service")
        if self.db_echo:
            problems.append("HOCSO_DB_ECHO must be false: echoed SQL would log names, phones and hashes")
        if "*" in self.cors_origins:
            problems.append("HOCSO_CORS_ORIGINS must list the front ends' origins, not *")
        if not self.metrics_token or len(self.metrics_token) < 32:
            problems.append("HOCSO_METRICS_TOKEN must be set (≥ 32 random characters): /metrics is not public")
        return problems


def listen_url(host: str, port: int) -> str:
    """The http:// address of a server listening on host:port; a wildcard host is reached on loopback."""
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class UnsafeConfiguration(RuntimeError):
    pass


def check_production(settings: Settings) -> None:
    if settings.env == "production" and (problems := settings.production_problems()):
        raise UnsafeConfiguration(
            "Refusing to start in production:\n" + "\n".join(f"  - {p}" for p in problems)
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
