"""The 94 features written the plain way: pandas rolling windows and `rolling().apply` with
numpy per window, one expression per Alpha158 definition. The tests check ml.features against it
and benchmarks/ml.py measures how much faster ml.features is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.features import EPS, FEATURE_NAMES, WINDOWS


def reference_features(frame: pd.DataFrame) -> pd.DataFrame:
    o, h, l, c, v = (frame[name].astype(float) for name in  # noqa: E741
                     ("open", "high", "low", "close", "volume"))
    span = h - l + EPS
    top, bottom = np.maximum(o, c), np.minimum(o, c)
    out = {
        "KMID": (c - o) / o, "KLEN": (h - l) / o, "KMID2": (c - o) / span,
        "KUP": (h - top) / o, "KUP2": (h - top) / span,
        "KLOW": (bottom - l) / o, "KLOW2": (bottom - l) / span,
        "KSFT": (2 * c - h - l) / o, "KSFT2": (2 * c - h - l) / span,
        "RET": np.log(c).diff(),
        "PARK": np.log(h / l) ** 2 / (4 * np.log(2)),
        "GK": 0.5 * np.log(h / l) ** 2 - (2 * np.log(2) - 1) * np.log(c / o) ** 2,
        "RS": np.log(h / c) * np.log(h / o) + np.log(l / c) * np.log(l / o),
        "DLVOL": np.log1p(v).diff(),
    }
    change = c.diff()
    move = (c / c.shift(1) - 1).abs() * v
    for d in WINDOWS:
        x = np.arange(1, d + 1)
        fit = lambda y, x=x: np.polyfit(x, y, 1)  # noqa: E731
        roll = c.rolling(d)
        out |= {
            f"ROC{d}": c.shift(d) / c,
            f"MA{d}": roll.mean() / c,
            f"STD{d}": roll.std() / c,
            f"BETA{d}": roll.apply(lambda y, fit=fit: fit(y)[0], raw=True) / c,
            f"RSQR{d}": roll.apply(lambda y, x=x: np.corrcoef(x, y)[0, 1] ** 2, raw=True),
            f"RESI{d}": roll.apply(lambda y, fit=fit, d=d: y[-1] - np.polyval(fit(y), d),
                                   raw=True) / c,
            f"MAX{d}": h.rolling(d).max() / c,
            f"MIN{d}": l.rolling(d).min() / c,
            f"QTLU{d}": roll.quantile(0.8) / c,
            f"QTLD{d}": roll.quantile(0.2) / c,
            f"RANK{d}": roll.rank(pct=True),
            f"RSV{d}": (c - l.rolling(d).min()) / (h.rolling(d).max() - l.rolling(d).min() + EPS),
            f"IMAX{d}": (h.rolling(d).apply(np.argmax, raw=True) + 1) / d,
            f"IMIN{d}": (l.rolling(d).apply(np.argmin, raw=True) + 1) / d,
            f"CORR{d}": roll.corr(np.log1p(v)),
            f"CNTP{d}": (change > 0).astype(float).where(change.notna()).rolling(d).mean(),
            f"SUMP{d}": change.clip(lower=0).rolling(d).sum()
            / (change.abs().rolling(d).sum() + EPS),
            f"VMA{d}": v.rolling(d).mean() / (v + EPS),
            f"VSTD{d}": v.rolling(d).std() / (v + EPS),
            f"WVMA{d}": move.rolling(d).std() / (move.rolling(d).mean() + EPS),
        }
    return pd.DataFrame(out, index=frame.index)[list(FEATURE_NAMES)]
