"""A trained model on disk: a directory holding `weights.pt` (the networks' state dicts, read
back with `torch.load(weights_only=True)`, so loading runs no pickled code) and
`manifest.json` (everything else: feature list and hash, scaler, offset, hyperparameters,
training window, walk-forward metrics, seed, code version, the weights' SHA-256 and the
manifest's own checksum).

Loading refuses an artifact whose manifest or weights changed after it was written, or whose
features differ from the pipeline in this code: a model fed features it was not trained on
would answer with confident nonsense.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch

from ml.features import FEATURE_HASH, FEATURE_NAMES, HISTORY
from ml.model import Hyperparameters, Network, VolatilityModel
from ml.scaler import Scaler

FORMAT = "noderr-ml-volatility/1"
MANIFEST = "manifest.json"
WEIGHTS = "weights.pt"


class ArtifactError(ValueError):
    """An artifact that must not be served, with the reason."""


@dataclass(frozen=True)
class Artifact:
    path: Path
    manifest: dict[str, Any]
    model: VolatilityModel

    @property
    def version(self) -> str:
        return str(self.manifest["version"])


def save(model: VolatilityModel, directory: Path, **details: Any) -> Path:
    """Write `model` and `details` (training window, metrics, data, …) as a new artifact."""
    if model.scaler is None:
        raise ValueError("the model is not fitted")
    directory.mkdir(parents=True, exist_ok=False)
    buffer = io.BytesIO()
    torch.save([net.state_dict() for net in model.networks], buffer)
    weights = buffer.getvalue()
    (directory / WEIGHTS).write_bytes(weights)
    manifest = {
        "format": FORMAT,
        "version": directory.name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "seed": model.seed,
        "hyperparameters": model.hyper.to_dict(),
        "features": {"names": list(FEATURE_NAMES), "hash": FEATURE_HASH, "history": HISTORY},
        "scaler": model.scaler.to_dict(),
        "offset": model.offset,
        "epochs": model.epochs,
        "core_alpha": model.core_alpha,
        **details,
        "weights": {"file": WEIGHTS, "sha256": hashlib.sha256(weights).hexdigest()},
    }
    manifest["checksum"] = checksum(manifest)
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return directory


def load(directory: Path, device: str = "cpu") -> Artifact:
    """The artifact in `directory`, verified; ArtifactError says why one is refused."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        weights = (directory / WEIGHTS).read_bytes()
    except (OSError, ValueError) as error:
        raise ArtifactError(f"{directory}: not a readable model artifact ({error})") from error
    if manifest.get("format") != FORMAT:
        raise ArtifactError(f"{directory}: format {manifest.get('format')!r}, expected {FORMAT}")
    if manifest.get("checksum") != checksum(manifest):
        raise ArtifactError(f"{directory}: manifest checksum mismatch (the file was changed)")
    if hashlib.sha256(weights).hexdigest() != manifest["weights"]["sha256"]:
        raise ArtifactError(f"{directory}: weights checksum mismatch (weights.pt was changed)")
    if (manifest["features"]["hash"] != FEATURE_HASH
            or manifest["features"]["names"] != list(FEATURE_NAMES)):
        raise ArtifactError(f"{directory}: trained on features {manifest['features']['hash'][:12]}"
                            f", this code computes {FEATURE_HASH[:12]}: retrain the model")
    return Artifact(directory, manifest, _model(manifest, weights, device))


def newest(root: Path) -> Path:
    """The most recently written artifact under `root`."""
    candidates = sorted(root.glob(f"*/{MANIFEST}"),
                        key=lambda path: (path.stat().st_mtime, path.parent.name))
    if not candidates:
        raise ArtifactError(f"no model artifact under {root}: run `noderr ml train` first")
    return candidates[-1].parent


def checksum(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON without its own checksum field."""
    body = {key: value for key, value in manifest.items() if key != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def code_version() -> str:
    """The package version and, inside a git checkout, the commit (with `-dirty` if changed)."""
    try:
        release = version("noderr")
    except PackageNotFoundError:
        release = "unknown"
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=Path(__file__).parent,
            capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return release
    return f"{release}+g{described}"


def _model(manifest: dict[str, Any], weights: bytes, device: str) -> VolatilityModel:
    model = VolatilityModel(Hyperparameters(**manifest["hyperparameters"]),
                            seed=manifest["seed"], device=device)
    model.scaler = Scaler.from_dict(manifest["scaler"])
    model.offset = float(manifest["offset"])
    model.epochs = list(manifest["epochs"])
    model.core_alpha = manifest.get("core_alpha")
    states = torch.load(io.BytesIO(weights), map_location=device, weights_only=True)
    for state in states:
        net = Network(model.hyper).to(model.device)
        net.load_state_dict(state)
        net.eval()
        model.networks.append(net)
    return model
