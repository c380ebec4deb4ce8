"""Settings: environment over .env, and production refuses development defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from tablebook.settings import DEVELOPMENT_SECRET_KEY, Settings, SettingsError

STRONG = "k" * 40
PRODUCTION = {
    "TABLEBOOK_ENV": "production",
    "DATABASE_URL": "postgresql://tb@db/tablebook",
    "REDIS_URL": "redis://cache:6379/0",
    "SECRET_KEY": STRONG,
    "PUBLIC_BASE_URL": "https://book.example.com/",
}


def test_development_runs_on_defaults() -> None:
    settings = Settings.from_env({}, dotenv=None)
    assert not settings.production
    assert settings.database_url is None
    assert settings.secret_key == DEVELOPMENT_SECRET_KEY


def test_production_with_everything_set_starts() -> None:
    settings = Settings.from_env(PRODUCTION, dotenv=None)
    assert settings.production
    assert settings.secret_key == STRONG


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("DATABASE_URL", "DATABASE_URL"),
        ("REDIS_URL", "REDIS_URL"),
        ("SECRET_KEY", "SECRET_KEY"),
        ("PUBLIC_BASE_URL", "PUBLIC_BASE_URL"),
    ],
)
def test_production_names_the_missing_setting(missing: str, named: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env, dotenv=None)


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({**PRODUCTION, "SECRET_KEY": DEVELOPMENT_SECRET_KEY}, dotenv=None)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env({**PRODUCTION, "SECRET_KEY": "hunter2"}, dotenv=None)


def test_the_public_base_url_loses_its_trailing_slash_and_defaults_in_development() -> None:
    assert Settings.from_env(PRODUCTION, dotenv=None).public_base_url == "https://book.example.com"
    assert Settings.from_env({}, dotenv=None).public_base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize("bad", ["book.example.com", "ftp://book.example.com", "https://x/?a=1"])
def test_a_public_base_url_that_is_no_http_address_is_refused(bad: str) -> None:
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        Settings.from_env({"PUBLIC_BASE_URL": bad}, dotenv=None)


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(SettingsError, match="TABLEBOOK_ENV"):
        Settings.from_env({"TABLEBOOK_ENV": "staging"}, dotenv=None)


def test_dotenv_fills_in_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# local settings\n"
        "export REDIS_URL=redis://from-dotenv:6379/0\n"
        "CORS_ORIGINS='https://a.example, https://b.example'\n"
        'TABLEBOOK_PORT="9000"\n'
    )
    settings = Settings.from_env({"TABLEBOOK_PORT": "9100"}, dotenv=dotenv)
    assert settings.redis_url == "redis://from-dotenv:6379/0"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.port == 9100


def test_a_malformed_dotenv_line_is_named(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("GOOD=1\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"\.env:2"):
        Settings.from_env({}, dotenv=dotenv)


def test_a_non_numeric_port_is_named() -> None:
    with pytest.raises(SettingsError, match="TABLEBOOK_PORT"):
        Settings.from_env({"TABLEBOOK_PORT": "eighty"}, dotenv=None)


def test_production_refuses_cheap_password_hashes() -> None:
    with pytest.raises(SettingsError, match="BCRYPT_ROUNDS"):
        Settings.from_env({**PRODUCTION, "BCRYPT_ROUNDS": "4"}, dotenv=None)


def test_production_refuses_to_believe_any_client_about_its_address() -> None:
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
        Settings.from_env({**PRODUCTION, "FORWARDED_ALLOW_IPS": "10.0.0.5, *"}, dotenv=None)
    assert Settings.from_env({"FORWARDED_ALLOW_IPS": "*"}, dotenv=None).forwarded_allow_ips


def test_forwarded_headers_are_believed_from_no_one_unless_listed() -> None:
    alone = Settings.from_env({}, dotenv=None)
    behind = Settings.from_env({"FORWARDED_ALLOW_IPS": "10.0.0.5, 10.1.0.0/16"}, dotenv=None)

    assert alone.proxy_options() == {"proxy_headers": False, "forwarded_allow_ips": []}
    assert behind.proxy_options() == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.5", "10.1.0.0/16"],
    }


def test_sign_in_waits_and_registrations_are_read_with_floors_of_one() -> None:
    defaults = Settings.from_env({}, dotenv=None)
    assert (
        defaults.login_attempts_per_account,
        defaults.login_attempts_per_address,
        defaults.login_account_alert_failures,
        defaults.login_first_delay_seconds,
        defaults.login_max_delay_seconds,
        defaults.registrations_per_address,
    ) == (5, 20, 50, 1, 900, 20)
    tuned = Settings.from_env(
        {
            "LOGIN_ACCOUNT_ALERT_FAILURES": "200",
            "LOGIN_FIRST_DELAY_SECONDS": "0",
            "LOGIN_MAX_DELAY_SECONDS": "3600",
            "REGISTRATIONS_PER_ADDRESS": "3",
        },
        dotenv=None,
    )
    assert tuned.login_account_alert_failures == 200
    assert tuned.login_first_delay_seconds == 1  # no wait of nothing: a failure always costs
    assert tuned.login_max_delay_seconds == 3600
    assert tuned.registrations_per_address == 3
