from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.oracle.observation import InvalidObservation, Observation, to_scaled
from tests.node.oracle.builders import AT, PROPERTIES


def observation(**changes) -> Observation:
    fields = {"feed_id": "SP500", "round_id": 7, "value": 250_612_345_678,
              "confidence": 1_234_567, "sources_used": ("atlas", "boreal", "cirrus"),
              "observed_at": AT}
    fields.update(changes)
    return Observation(**fields)


def test_scaled__eight_decimals_rounded_half_to_even() -> None:
    assert to_scaled(1.07219) == 107_219_000
    assert to_scaled(2506.12345678) == 250_612_345_678
    assert to_scaled(0.000000005) == 0
    assert to_scaled(0.000000015) == 2


def test_scaled__refuses_non_finite() -> None:
    for value in (math.nan, math.inf):
        with pytest.raises(InvalidObservation):
            to_scaled(value)


def test_payload__round_trips_through_json() -> None:
    original = observation()
    payload = json.loads(json.dumps(original.to_payload()))
    assert payload["value"] == "250612345678"
    assert Observation.from_payload(payload) == original


@PROPERTIES
@given(st.integers(1, 10**30), st.integers(0, 10**30), st.integers(0, 2**63),
       st.lists(st.text(min_size=1, max_size=8), max_size=6, unique=True))
def test_payload__round_trip_keeps_every_integer_exact(value, confidence, round_id, names) -> None:
    original = observation(value=value, confidence=confidence, round_id=round_id,
                           sources_used=tuple(names))
    assert Observation.from_payload(json.loads(json.dumps(original.to_payload()))) == original


def test_payload__observed_at_is_written_in_utc() -> None:
    offset = timezone(timedelta(0))
    assert observation(observed_at=datetime(2024, 1, 1, tzinfo=offset)).to_payload()[
        "observed_at"] == "2024-01-01T00:00:00+00:00"


@pytest.mark.parametrize("changes", [
    {"feed_id": ""},
    {"round_id": -1},
    {"round_id": True},
    {"value": 0},
    {"value": 1.5},
    {"confidence": -1},
    {"sources_used": ["atlas"]},
    {"sources_used": ("atlas", "atlas")},
    {"observed_at": AT.replace(tzinfo=None)},
    {"observed_at": AT.astimezone(timezone(timedelta(hours=2)))},
])
def test_observation__refuses_a_bad_field(changes) -> None:
    with pytest.raises(InvalidObservation):
        observation(**changes)


@pytest.mark.parametrize("mutate", [
    lambda p: p.pop("value"),
    lambda p: p.update(extra=1),
    lambda p: p.update(value=250612345678),
    lambda p: p.update(value="-5"),
    lambda p: p.update(value="1e9"),
    lambda p: p.update(confidence="١٢"),
    lambda p: p.update(sources_used="atlas"),
    lambda p: p.update(observed_at="yesterday"),
    lambda p: p.update(observed_at="2024-01-01T00:00:00"),
    lambda p: p.update(observed_at="2024-01-01T02:00:00+02:00"),
    lambda p: p.update(round_id="7"),
])
def test_payload__refuses_a_malformed_payload(mutate) -> None:
    payload = observation().to_payload()
    mutate(payload)
    with pytest.raises(InvalidObservation):
        Observation.from_payload(payload)


def test_payload__accepts_a_z_suffix() -> None:
    payload = observation().to_payload() | {"observed_at": "2020-03-02T15:30:00Z"}
    assert Observation.from_payload(payload).observed_at == datetime(2020, 3, 2, 15, 30,
                                                                     tzinfo=UTC)
