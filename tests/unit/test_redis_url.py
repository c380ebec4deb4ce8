"""`REDIS_URL` names one server, or the sentinels that know where the master is."""

from __future__ import annotations

import pytest

from tablebook.redis_url import SentinelTarget, parse_sentinel_url
from tablebook.settings import Settings, SettingsError


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "rediss://:secret@cache.internal:6380/2", "unix:///run/r.sock"],
)
def test_a_url_of_one_server_is_left_to_redis_py(url: str) -> None:
    assert parse_sentinel_url(url) is None


def test_three_sentinels_a_service_and_a_database() -> None:
    url = "redis+sentinel://:s3cret@sentinel-a:26379,sentinel-b:26380,sentinel-c/tablebook/2"
    assert parse_sentinel_url(url) == SentinelTarget(
        sentinels=(("sentinel-a", 26379), ("sentinel-b", 26380), ("sentinel-c", 26379)),
        service="tablebook",
        db=2,
        password="s3cret",
    )


def test_the_database_defaults_to_0_and_a_user_and_escaped_password_are_the_masters() -> None:
    url = "redis+sentinel://app:p%40ss%2Fword@10.0.0.7/mymaster?sentinel_password=watch"
    assert parse_sentinel_url(url) == SentinelTarget(
        sentinels=(("10.0.0.7", 26379),),
        service="mymaster",
        db=0,
        username="app",
        password="p@ss/word",
        sentinel_password="watch",
    )


def test_sentinels_on_ipv6_addresses() -> None:
    target = parse_sentinel_url("redis+sentinel://[::1]:26379,[fd00::7]/tablebook")
    assert target is not None
    assert target.sentinels == (("::1", 26379), ("fd00::7", 26379))


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("redis+sentinel://sentinel-a:26379", "must name the service"),
        ("redis+sentinel://sentinel-a:26379/tablebook/0/extra", "must name the service"),
        ("redis+sentinel://sentinel-a/tablebook/zero", "database that is not a number"),
        ("redis+sentinel://sentinel-a:http/tablebook", "not a port"),
        ("redis+sentinel://sentinel-a:70000/tablebook", "not a port"),
        ("redis+sentinel:///tablebook", "names no sentinel"),
        ("redis+sentinel://a,,:1/tablebook", "without a host"),
        ("redis+sentinel://a/tablebook?master_password=x", "unknown parameters"),
        ("sentinel://sentinel-a/tablebook", "must start with"),
        ("127.0.0.1:6379", "must start with"),
    ],
)
def test_a_malformed_url_is_refused_saying_why(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_sentinel_url(url)


def test_a_refusal_never_shows_the_password() -> None:
    with pytest.raises(ValueError) as refused:
        parse_sentinel_url("redis+sentinel://:hunter2@sentinel-a")
    assert "hunter2" not in str(refused.value)
    with pytest.raises(ValueError) as refused:
        parse_sentinel_url("redis+sentinel://sentinel-a?sentinel_password=hunter3")
    assert "hunter3" not in str(refused.value)


def test_a_plus_in_the_sentinels_password_stays_a_plus() -> None:
    target = parse_sentinel_url("redis+sentinel://s1/svc?sentinel_password=a+b%2Bc")
    assert target is not None
    assert target.sentinel_password == "a+b+c"


def test_settings_refuse_a_malformed_redis_url_at_start_up() -> None:
    with pytest.raises(SettingsError, match="must name the service"):
        Settings.from_env({"REDIS_URL": "redis+sentinel://sentinel-a:26379"}, dotenv=None)
    sentinel = "redis+sentinel://sentinel-a,sentinel-b,sentinel-c/tablebook/0"
    assert Settings.from_env({"REDIS_URL": sentinel}, dotenv=None).redis_url == sentinel
