"""Deployment settings, read from ``JIUZHU_*`` environment variables (plus ``DATABASE_URL``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIUZHU_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Database files, signing keys, secrets")
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "JIUZHU_DATABASE_URL"),
        description="postgresql:// URL; unset means the embedded PostgreSQL in data_dir/pg",
    )
    province_code: str = Field("53", description="The deployment's province (Yunnan)")

    token_issuer: str = "jiuzhu"  # noqa: S105 - a name, not a secret
    token_audience: str = "jiuzhu-api"  # noqa: S105 - a name, not a secret
    token_ttl_person: int = Field(900, description="seconds, people (15 min)")
    token_ttl_client: int = Field(3600, description="seconds, service clients (60 min)")
    token_max_lifetime: int = Field(3600, description="tokens living longer than this are refused")
    clock_skew: int = Field(30, description="seconds of tolerance for nbf/iat")
    key_reload_interval: float = Field(10.0, description="min seconds between key reloads on unknown kid")

    upstream_staffing: str = "http://127.0.0.1:8001"
    upstream_contract: str = "http://127.0.0.1:8002"
    upstream_penalty: str = "http://127.0.0.1:8003"
    upstream_timeout: float = Field(10.0, description="seconds before the gateway answers 504")

    idempotency_stale_after: int = Field(
        300, description="seconds after which an in-progress idempotency key is presumed crashed"
    )
    db_pool_size: int = 10

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"


@lru_cache
def get_settings() -> Settings:
    return Settings()
