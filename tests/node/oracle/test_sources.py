from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from node.errors import InvalidParameter, UnknownInstrument
from node.sources.base import LiveClock, LiveExchangeSource, Source
from node.sources.market import Bars, Quote, from_ns, to_ns
from node.sources.replay import (
    DEFAULT_PROFILES,
    INSTRUMENTS,
    ReplayClock,
    ReplaySource,
    SourceProfile,
    intrabar_price,
    load_tape,
    replay_sources,
)

START = datetime(2024, 1, 1, tzinfo=UTC)


def bar_open(instrument: str, index: int) -> datetime:
    return from_ns(int(load_tape(instrument).start_ns[index]))


def test_tapes__hold_the_packaged_data_sets() -> None:
    sizes = {name: len(load_tape(name).bars) for name in INSTRUMENTS}
    assert sizes == {"SP500": 5031, "NASDAQ": 5031, "GOOG": 2148, "EURUSD": 5000}
    assert load_tape("SP500").bars.close[0] == pytest.approx(1228.099976)
    assert not load_tape("GOOG").bars.close.flags.writeable


def test_tapes__refuse_an_unknown_instrument() -> None:
    with pytest.raises(UnknownInstrument):
        load_tape("DOGE")


def test_intrabar_path__visits_open_extremes_close_in_the_bar_direction() -> None:
    up = [intrabar_price(10, 12, 9, 11, u) for u in (0, 1 / 3, 2 / 3, 1)]
    down = [intrabar_price(11, 12, 9, 10, u) for u in (0, 1 / 3, 2 / 3, 1)]
    assert up == pytest.approx([10, 9, 12, 11])
    assert down == pytest.approx([11, 12, 9, 10])


def test_replay_source__honest_quotes_lie_in_their_bar() -> None:
    source = ReplaySource(SourceProfile("honest", noise_bps=50.0), seed=1)
    tape = load_tape("GOOG")
    for index in range(10, 2000, 37):
        for fraction in (0.0, 0.2, 0.5, 0.9):
            at = from_ns(int(tape.start_ns[index] + fraction * (tape.end_ns[index]
                                                                 - tape.start_ns[index])))
            quote = source.quote("GOOG", at)
            assert tape.bars.low[index] <= quote.price <= tape.bars.high[index]
            assert quote.observed_at == at
            assert quote.confidence == pytest.approx(quote.price * 50e-4)


def test_replay_source__bias_and_latency_shift_the_quote() -> None:
    at = bar_open("SP500", 200) + timedelta(hours=6)
    honest = ReplaySource(SourceProfile("a", noise_bps=0.0)).quote("SP500", at)
    biased = ReplaySource(SourceProfile("a", noise_bps=0.0, bias_bps=100)).quote("SP500", at)
    late = ReplaySource(SourceProfile("a", noise_bps=0.0, latency=timedelta(hours=2))).quote(
        "SP500", at)
    assert biased.price == pytest.approx(honest.price * 1.01)
    assert late.observed_at == at - timedelta(hours=2)


def test_replay_source__same_question_same_answer_and_sources_differ() -> None:
    at = bar_open("EURUSD", 300) + timedelta(minutes=20)
    first, second = replay_sources(seed=4), replay_sources(seed=4)
    assert [s.quote("EURUSD", at) for s in first] == [s.quote("EURUSD", at) for s in second]
    prices = {q.price for s in first if (q := s.quote("EURUSD", at)) is not None}
    assert len(prices) > 1


def test_replay_source__drops_about_as_often_as_configured() -> None:
    source = ReplaySource(SourceProfile("flaky", dropout=0.3), seed=2)
    start = bar_open("SP500", 100)
    quotes = [source.quote("SP500", start + timedelta(hours=h)) for h in range(2000)]
    dropped = sum(quote is None for quote in quotes) / len(quotes)
    assert 0.25 < dropped < 0.35


def test_replay_source__has_nothing_before_the_data_starts() -> None:
    assert ReplaySource(SourceProfile("a")).quote("SP500", bar_open("SP500", 0)
                                                 - timedelta(days=1)) is None


def test_replay_source__bars_are_the_completed_ones_in_the_window() -> None:
    source = ReplaySource(SourceProfile("a"))
    at = bar_open("SP500", 50) + timedelta(hours=12)
    window = source.bars("SP500", at - timedelta(days=30), at)
    tape = load_tape("SP500")
    assert window.time[-1] == tape.bars.time[49]
    assert to_ns(at - timedelta(days=30)) < tape.end_ns[np.searchsorted(
        tape.bars.time, window.time[0])]
    biased = ReplaySource(SourceProfile("b", bias_bps=-200)).bars("SP500", at - timedelta(days=30),
                                                                   at)
    np.testing.assert_allclose(biased.close, window.close * 0.98)
    np.testing.assert_array_equal(biased.volume, window.volume)


def test_replay_source__refuses_unknown_instruments_and_bad_profiles() -> None:
    source = ReplaySource(SourceProfile("a"), instruments=("GOOG",))
    with pytest.raises(UnknownInstrument):
        source.quote("SP500", START)
    with pytest.raises(UnknownInstrument):
        ReplaySource(SourceProfile("a"), instruments=("DOGE",))
    for bad in ({"noise_bps": -1}, {"latency": timedelta(-1)}, {"dropout": 1.0},
                {"bias_bps": -10_000}, {"name": ""}):
        with pytest.raises(InvalidParameter):
            dataclasses.replace(SourceProfile("a"), **bad)
    with pytest.raises(InvalidParameter):
        replay_sources(profiles=(SourceProfile("a"), SourceProfile("a")))


def test_replay_source__is_a_source() -> None:
    assert all(isinstance(source, Source) for source in replay_sources())
    assert [source.name for source in replay_sources()] == [p.name for p in DEFAULT_PROFILES]


def test_replay_clock__advances_at_its_speed_from_the_warmup_and_wraps() -> None:
    clock = ReplayClock(START, speed=86_400.0, warmup=timedelta(days=120))
    origin = bar_open("SP500", 0) + timedelta(days=120)
    assert clock.replay_time("SP500", START) == origin
    assert clock.replay_time("SP500", START + timedelta(seconds=3)) == origin + timedelta(days=3)
    tape = load_tape("SP500")
    span = from_ns(int(tape.end_ns[-1])) - origin
    wrapped = START + timedelta(seconds=span / timedelta(days=1) + 2)
    assert clock.replay_time("SP500", wrapped) == origin + timedelta(days=2)


def test_replay_clock__refuses_bad_settings() -> None:
    with pytest.raises(InvalidParameter):
        ReplayClock(START, speed=0)
    with pytest.raises(InvalidParameter):
        ReplayClock(START.replace(tzinfo=None))
    with pytest.raises(InvalidParameter):
        ReplayClock(START, warmup=timedelta(days=5000)).replay_time("EURUSD", START)


def test_live_clock__is_the_wall_clock() -> None:
    assert LiveClock().replay_time("SP500", START) == START


class PaperExchange(LiveExchangeSource):
    """A test double that answers from memory, as a real adapter would from its API."""

    def quote(self, instrument: str, at: datetime) -> Quote | None:
        self.require_instrument(instrument)
        return Quote(self.name, instrument, 100.0, 0.01, at)

    def bars(self, instrument: str, start: datetime, end: datetime) -> Bars:
        self.require_instrument(instrument)
        return load_tape(instrument).bars.slice(0, 0)


def credentials(**extra: str) -> Mapping[str, str]:
    return {"api_key": "key-123", "api_secret": "s3cr3t", **extra}


def test_live_exchange__takes_credentials_from_the_vault_and_hides_them() -> None:
    exchange = PaperExchange("paper", ("SP500",), credentials())
    assert isinstance(exchange, Source)
    assert exchange.credential("api_secret") == "s3cr3t"
    assert "s3cr3t" not in repr(exchange)
    assert "key-123" not in repr(exchange)
    assert exchange.quote("SP500", START).price == 100.0


def test_live_exchange__refuses_missing_credentials_and_unknown_instruments() -> None:
    with pytest.raises(InvalidParameter, match="api_secret"):
        PaperExchange("paper", ("SP500",), {"api_key": "key-123"})
    with pytest.raises(UnknownInstrument):
        PaperExchange("paper", ("SP500",), credentials()).quote("GOOG", START)
