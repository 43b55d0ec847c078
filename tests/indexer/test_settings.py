"""The one lag limit: `NODERR_MAX_LAG_BLOCKS`, and its check against the confirmations."""

from __future__ import annotations

import pytest

from indexer.settings import IndexerSettings, LagSettingsError, check_lag_settings


def test_max_lag_blocks__read_from_the_shared_variable(monkeypatch):
    monkeypatch.setenv("NODERR_MAX_LAG_BLOCKS", "9")
    monkeypatch.setenv("NODERR_INDEXER_MAX_LAG_BLOCKS", "7")  # the retired name: ignored
    assert IndexerSettings().max_lag_blocks == 9
    assert IndexerSettings(max_lag_blocks=3).max_lag_blocks == 3


def test_max_lag_blocks__default_5(monkeypatch):
    monkeypatch.delenv("NODERR_MAX_LAG_BLOCKS", raising=False)
    assert IndexerSettings().max_lag_blocks == 5


@pytest.mark.parametrize("confirmations", [5, 6])
def test_check_lag_settings__confirmations_at_or_above__refused(confirmations):
    settings = IndexerSettings(confirmations=confirmations, max_lag_blocks=5)
    with pytest.raises(LagSettingsError, match=r"NODERR_INDEXER_CONFIRMATIONS .* must be below "
                                               r"NODERR_MAX_LAG_BLOCKS"):
        check_lag_settings(settings)


def test_check_lag_settings__confirmations_below__returns_the_settings():
    settings = IndexerSettings(confirmations=4, max_lag_blocks=5)
    assert check_lag_settings(settings) is settings
