"""Request ids, route labels, the observability settings, and counting across workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import Snapshot, exposition
from api.observe import route_of
from api.request_id import request_id_from
from tablebook.metrics import MULTIPROC_DIR, worker_metrics
from tablebook.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("template", "label"),
    [
        ("/api/v1/bookings/{booking_id:str}", "/api/v1/bookings/{booking_id}"),
        (
            "/api/v1/venues/{venue_id:str}/bookings/{booking_id:str}/history",
            "/api/v1/venues/{venue_id}/bookings/{booking_id}/history",
        ),
        ("/health/live", "/health/live"),
        (None, "unmatched"),
    ],
)
def test_a_route_is_labelled_by_its_template(template: str | None, label: str) -> None:
    scope = {} if template is None else {"path_template": template}
    assert route_of(scope) == label  # type: ignore[arg-type]


@pytest.mark.parametrize("given", ["a", "checkout-7f3a.retry_2", "X" * 64, "0.1_2-3"])
def test_a_well_formed_request_id_is_kept(given: str) -> None:
    assert request_id_from(given) == given


@pytest.mark.parametrize("given", [None, "", "x" * 65, "two words", "a/b", "ünï", "id\t1"])
def test_any_other_request_id_is_replaced_by_a_new_one(given: str | None) -> None:
    made = request_id_from(given)
    assert made != given
    assert len(made) == 32
    assert made != request_id_from(given)


def test_the_observability_settings_are_read_and_checked() -> None:
    plain = Settings.from_env({}, dotenv=None).observe
    assert plain.ready_max_lag_seconds == 10.0
    assert plain.metrics_token is None
    assert plain.projector_metrics_port == 0
    given = Settings.from_env(
        {
            "READY_MAX_LAG_SECONDS": "2.5",
            "METRICS_TOKEN": "scrape-me",
            "PROJECTOR_METRICS_PORT": "9101",
            "PROJECTOR_METRICS_HOST": "0.0.0.0",
        },
        dotenv=None,
    ).observe
    assert given.ready_max_lag_seconds == 2.5
    assert given.metrics_token == "scrape-me"
    assert (given.projector_metrics_host, given.projector_metrics_port) == ("0.0.0.0", 9101)
    for wrong in ({"PROJECTOR_METRICS_PORT": "70000"}, {"READY_MAX_LAG_SECONDS": "0"}):
        with pytest.raises(SettingsError):
            Settings.from_env(wrong, dotenv=None)


def test_one_worker_needs_no_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROC_DIR, raising=False)
    with worker_metrics(1):
        assert MULTIPROC_DIR not in os.environ


def test_several_workers_get_a_directory_of_their_own_removed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROC_DIR, raising=False)
    with worker_metrics(2):
        made = Path(os.environ[MULTIPROC_DIR])
        assert made.is_dir()
    assert not made.exists()
    assert MULTIPROC_DIR not in os.environ


def test_a_given_directory_is_emptied_of_an_earlier_runs_counts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROC_DIR, str(tmp_path))
    with worker_metrics(3):
        assert not (tmp_path / "counter_123.db").exists()
    assert (tmp_path / "keep.txt").exists()


_WORKER = """
from api.metrics import REQUESTS
REQUESTS.labels("GET", "/health/live", "200").inc({n})
"""


def test_a_scrape_adds_up_every_workers_counts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {**os.environ, MULTIPROC_DIR: str(tmp_path)}
    for n in (2, 3):  # two worker processes, each counting in its own file
        subprocess.run([sys.executable, "-c", _WORKER.format(n=n)], env=env, cwd=ROOT, check=True)
    monkeypatch.setenv(MULTIPROC_DIR, str(tmp_path))
    text = exposition(Snapshot()).decode()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    labels = (("method", "GET"), ("route", "/health/live"), ("status", "200"))
    assert samples[("tablebook_http_requests_total", labels)] == 5
