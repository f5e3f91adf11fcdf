"""Deployment settings, read from ``JIUZHU_*`` environment variables (plus ``DATABASE_URL``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExternalIssuer(BaseModel):
    """A trusted outside issuer: where its public keys are, and the audience its tokens must carry."""

    jwks: str = Field(description="https URL (http only on loopback) or a file path")
    audience: str


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(cores: int | None = None) -> int:
    """One worker process per core this process may use, at most 4 (with a pool of 8 connections
    each, 3 services stay within PostgreSQL's default 100 connections)."""
    return max(1, min(usable_cores() if cores is None else cores, 4))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIUZHU_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Database files, signing keys, secrets")
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "JIUZHU_DATABASE_URL"),
        description="postgresql:// URL; unset means the embedded PostgreSQL in data_dir/pg",
    )
    province_code: str = Field("53", description="The deployment's province (Yunnan)")
    ocds_prefix: str = Field(
        "ocds-jzyn53", description="OCDS ocid prefix (replace with the one registered with the OCP)"
    )
    publisher: str = Field("云南省民政厅", description="publisher named in the public OCDS packages")

    token_issuer: str = "jiuzhu"  # noqa: S105 - a name, not a secret
    token_audience: str = "jiuzhu-api"  # noqa: S105 - a name, not a secret
    token_ttl_person: int = Field(900, description="seconds, people (15 min)")
    token_ttl_client: int = Field(3600, description="seconds, service clients (60 min)")
    token_max_lifetime: int = Field(3600, description="tokens living longer than this are refused")
    clock_skew: int = Field(30, description="seconds of tolerance for nbf/iat")
    key_reload_interval: float = Field(10.0, description="min seconds between key reloads on unknown kid")
    external_issuers: dict[str, ExternalIssuer] = Field(
        default_factory=dict, description='JSON: {"iss": {"jwks": URL or path, "audience": "..."}}'
    )
    external_jwks_refresh: float = Field(60.0, description="min seconds between JWKS fetches on unknown kid")
    revocation_cache_seconds: float = Field(2.0, description="how stale the shared deny-list may be")
    gateway_shared_dir: Path | None = Field(
        None,
        description="directory through which the gateway's worker processes share their rate limits and "
        "revocations (`jiuzhu up` sets it); unset: one process keeps them in memory",
    )
    verified_token_cache: int = Field(10_000, description="verified tokens kept in memory (0 disables)")

    upstream_staffing: str = "http://127.0.0.1:8001"
    upstream_contract: str = "http://127.0.0.1:8002"
    upstream_penalty: str = "http://127.0.0.1:8003"
    upstream_timeout: float = Field(10.0, description="seconds before the gateway answers 504")
    # Each upstream setting may list several replicas, comma-separated: the gateway takes them in
    # turn and passes over, for this long, one it could not reach (gateway/replicas.py).
    upstream_eject_seconds: float = Field(5.0, ge=0, description="seconds a failed replica is passed over")
    upstream_connections: int = Field(
        0,
        ge=0,
        description="connections each gateway worker opens to each replica at most; requests beyond "
        "wait for one, within the deadline (0: up to 200 in all)",
    )
    idempotency_keep_days: int = Field(
        7, ge=7, description="days a stored Idempotency-Key answer is kept (at least 7), then purged"
    )
    idempotency_claim_seconds: float = Field(
        60.0,
        gt=0,
        description="seconds a key stays in progress once a write has committed a first step and is calling "
        "another service (transaction.commit_step): a twin meanwhile gets 409; after it the claim is taken "
        "to be dead (its process crashed between steps) and a retry takes it over. Longer than "
        "upstream_timeout",
    )
    retention_interval_seconds: float = Field(3600.0, gt=0, description="seconds between retention runs")
    export_max_rows: int = Field(100_000, ge=1, description="rows a spreadsheet export may hold (more → 422)")

    signin_rate: float = Field(5.0, description="sign-in requests per second per client address")
    signin_burst: int = Field(20, description="sign-in burst per client address")
    rate_per_sub: float = Field(20.0, description="API requests per second per token subject")
    burst_per_sub: int = Field(40, description="API burst per token subject")
    public_rate: float = Field(5.0, description="public (no token) requests per second per client address")
    public_burst: int = Field(30, description="public burst per client address")
    body_limit: int = Field(1024 * 1024, description="bytes; larger bodies get 413")
    import_body_limit: int = Field(20 * 1024 * 1024, description="bytes, on import endpoints")
    cors_origins: list[str] = Field(
        default_factory=list, description="origins allowed (the provincial portal)"
    )
    metrics_token: str | None = Field(
        None,
        description="bearer token /metrics requires (a scraper's); unset: loopback clients only",
    )
    hsts_seconds: int = Field(
        0, description="Strict-Transport-Security max-age; 0 sends none (behind TLS set it)"
    )

    pii_key: str | None = Field(None, description="base64 of 64 bytes; unset: data_dir/secrets/pii.key")

    fault_points: set[str] = Field(
        default_factory=set, description="crash tests only: points where the process kills itself"
    )
    db_role: str | None = Field(
        "jiuzhu_app",
        description="role the services take at connection start (migration 0013: no UPDATE/DELETE on the "
        "ledger); the connecting user must be a member. None: the connecting user's own privileges",
    )
    db_pool_size: int = Field(
        8,
        ge=1,
        description="database connections each process keeps at most (no overflow); `jiuzhu up` gives "
        "each fewer when its processes would not all fit within the server's max_connections",
    )
    db_idle_in_transaction_timeout: int = Field(
        60,
        description="seconds a service connection may sit idle inside a transaction before PostgreSQL "
        "ends it (an abandoned transaction would otherwise hold locks and the change feed's horizon)",
    )
    db_lock_timeout_ms: int = Field(
        5000, ge=1, description="ms a statement waits for a row lock before giving up (503 DATABASE_BUSY)"
    )
    db_statement_timeout_ms: int = Field(
        30000, ge=1, description="ms a statement may run before PostgreSQL cancels it (504 DATABASE_TIMEOUT)"
    )
    workers: int = Field(
        default_factory=lambda: default_workers(),
        ge=1,
        description="processes per service under `jiuzhu up` (default: one per CPU core, at most 4)",
    )
    replicas: int = Field(
        1,
        ge=1,
        le=8,
        description="independent copies of each service under `jiuzhu up`, each on its own port and "
        "restarted on its own; the gateway spreads requests over them",
    )

    @model_validator(mode="after")
    def _claims_outlive_the_call(self) -> Settings:
        # A claim committed by a first step must stay "in progress" at least as long as the call that
        # follows may take, or a twin would take it over while the first request still runs.
        if self.idempotency_claim_seconds <= self.upstream_timeout:
            raise ValueError(
                f"idempotency_claim_seconds ({self.idempotency_claim_seconds:g}) must be longer than "
                f"upstream_timeout ({self.upstream_timeout:g})"
            )
        return self

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"


@lru_cache
def get_settings() -> Settings:
    return Settings()
