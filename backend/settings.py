"""Configuration of the backend (`noderr api`) from `NODERR_*` environment variables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import limits
from pydantic import AfterValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from noderr.settings import LOCAL_CHAIN_ID, CommaList, get_settings

DEFAULT_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000",
                   "http://127.0.0.1:8501", "http://localhost:8501"]
DEFAULT_TYPEFORM_FIELDS = {name: name for name in (
    "applicant_name", "contact", "wallet_address", "node_type", "region", "experience")}

FieldMap = Annotated[dict[str, str], NoDecode]


def _rate_limit(value: str) -> str:
    """A rate in the `limits` library's notation ("60/minute", "10 per hour")."""
    try:
        limits.parse(value)
    except ValueError:
        raise ValueError(f"not a rate limit: {value!r} (e.g. 60/minute)") from None
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limit)]


class BackendSettings(BaseSettings):
    """What the API needs beyond `noderr.settings.Settings`; secrets are SecretStr, never logged."""

    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    siwe_domains: CommaList = Field(
        default_factory=lambda: list(DEFAULT_ORIGINS),
        description="Comma-separated origins whose SIWE domain and URI are accepted.")
    siwe_statement: str = Field("Sign in to Noderr.", description="The exact SIWE statement.")
    siwe_nonce_ttl: int = Field(300, ge=10, description="Seconds a SIWE nonce stays valid.")
    siwe_clock_skew: int = Field(60, ge=0, description="Seconds of clock skew tolerated.")
    siwe_max_age: int = Field(600, ge=10, description="Oldest issued-at accepted, seconds.")
    session_ttl: int = Field(8 * 3600, ge=60, description="Seconds a session lasts (at most "
                                                         "until the SIWE Expiration Time).")
    session_key_file: Path | None = Field(
        None, description="Key of the session-token digests (created mode 0600 on first start; "
                          "delete it to sign everyone out); default <NODERR_DATA_DIR>/session-key.")
    confirm_on_chain: bool = Field(
        False, description="When the mirror lags, confirm a license with one is_active call.")
    caller_cache: bool = Field(
        True, description="Reuse a signed-in caller's licenses and roles until a NOTIFY says the "
                          "mirror or the sessions changed (off: one query per request).")
    head_cache_seconds: float = Field(
        1.0, ge=0, description="How long the chain head read for the lag check is reused "
                               "(refreshed in the background up to twice that).")
    max_body_bytes: int = Field(65536, ge=1024, description="Largest request body accepted.")
    db_pool_size: int = Field(10, ge=1, description="Database connections per API process.")
    typeform_secret: SecretStr | None = Field(
        None, description="Typeform webhook secret (unset: the webhook answers 503).")
    typeform_form_id: str | None = Field(None, description="The Typeform form of applications.")
    typeform_token: SecretStr | None = Field(
        None, description="Typeform personal access token, for the backfill.")
    typeform_api_url: str = Field("https://api.typeform.com", description="Typeform API base.")
    typeform_fields: FieldMap = Field(
        default_factory=lambda: dict(DEFAULT_TYPEFORM_FIELDS),
        description="JSON object: Typeform field ref -> application field.")
    minter_keystore: Path | None = Field(
        None, description="Encrypted JSON keystore of the server-side minter (unset: off).")
    minter_password_file: Path | None = Field(
        None, description="File holding the minter keystore's password (never the password).")

    node_stale_after: float = Field(
        30.0, gt=0, description="Seconds without a heartbeat after which GET /network/nodes "
                                "shows a node as stale.")

    rate_limit_sign_in: RateLimit = Field(
        "60/minute", description="Per client: GET /auth/nonce and POST /auth/verify, each "
                                 "(`limits` syntax, e.g. 60/minute; per API process).")
    rate_limit_applications: RateLimit = Field(
        "10/hour", description="Per client: POST /applications (per API process).")
    rate_limit_public: RateLimit = Field(
        "600/minute", description="Per client: the public auditor and monitoring reads "
                                  "(/events, /licenses, /governance/proposals, /network/*; "
                                  "per API process).")
    rate_limit_delay: float = Field(
        0.25, ge=0, le=5, description="Seconds an answer past a rate limit is held before "
                                      "the 429, so a flood over few connections stays slow.")
    rate_limit_anonymous: RateLimit = Field(
        "60/minute", description="Per client: vault requests refused for want of a session "
                                 "(counted, never written to the audit log; per API process).")

    def check_for_chain(self, chain_id: int) -> None:
        """ValueError unless the SIWE origins were chosen for this chain: the localhost
        defaults serve only the local chain."""
        if chain_id != LOCAL_CHAIN_ID and "siwe_domains" not in self.model_fields_set:
            raise ValueError(f"NODERR_SIWE_DOMAINS must be set on chain {chain_id}: the "
                             "origins users sign in from (the localhost defaults serve only "
                             f"chain {LOCAL_CHAIN_ID})")

    def session_key_path(self) -> Path:
        return self.session_key_file or get_settings().data_dir / "session-key"

    @field_validator("typeform_fields", mode="before")
    @classmethod
    def _parse_json(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value)
        return value
