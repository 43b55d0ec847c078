from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ml import artifact
from ml.model import VolatilityModel
from ml.panel import Panel


@pytest.fixture
def saved(tmp_path: Path, small_model: VolatilityModel) -> Path:
    return artifact.save(small_model, tmp_path / "sp500-test", data="sp500",
                         training_window={"first": "1999-03-31", "last": "2002-08-01"},
                         metrics={"models": {}})


def test_round_trip(saved: Path, small_model: VolatilityModel, small_panel: Panel) -> None:
    loaded = artifact.load(saved)
    np.testing.assert_array_equal(loaded.model.predict(small_panel, 700, 800),
                                  small_model.predict(small_panel, 700, 800))
    manifest = loaded.manifest
    assert manifest["seed"] == 7 and manifest["version"] == "sp500-test"
    assert len(manifest["features"]["names"]) == 94 and manifest["training_window"]
    assert manifest["code_version"] and manifest["weights"]["sha256"]


def test_a_changed_manifest_is_refused(saved: Path) -> None:
    manifest = json.loads((saved / "manifest.json").read_text())
    manifest["offset"] += 1.0
    (saved / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(artifact.ArtifactError, match="manifest checksum mismatch"):
        artifact.load(saved)


def test_changed_weights_are_refused(saved: Path) -> None:
    weights = bytearray((saved / "weights.pt").read_bytes())
    weights[-100] ^= 0xFF
    (saved / "weights.pt").write_bytes(bytes(weights))
    with pytest.raises(artifact.ArtifactError, match="weights checksum mismatch"):
        artifact.load(saved)


def test_other_features_are_refused(tmp_path: Path, small_model: VolatilityModel,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifact, "FEATURE_HASH", "0" * 64)
    path = artifact.save(small_model, tmp_path / "old-features")
    monkeypatch.undo()
    with pytest.raises(artifact.ArtifactError, match="retrain the model"):
        artifact.load(path)


def test_newest_artifact(tmp_path: Path, small_model: VolatilityModel) -> None:
    with pytest.raises(artifact.ArtifactError, match="noderr ml train"):
        artifact.newest(tmp_path)
    artifact.save(small_model, tmp_path / "a")
    second = artifact.save(small_model, tmp_path / "b")
    assert artifact.newest(tmp_path) == second
