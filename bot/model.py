"""A fitted logistic model stored as data: standardised features, weights, bias, thresholds, provenance.

Written by `python -m eval.fit` (scikit-learn's LogisticRegression, grouped k-fold cross-validation)
and read here with numpy alone, so answering never imports scikit-learn. The file records the feature
names (checked against the code's), what the model was fitted on, and its cross-validated scores.

    {"format": 1, "features": [...], "mean": [...], "scale": [...], "weights": [...], "bias": b,
     "thresholds": {"name": p, ...}, "fitted_on": [...], "cv": {...}, "date": "YYYY-MM-DD"}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import BotError

FORMAT = 1
DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Logistic:
    """P(y = 1 | x) = sigmoid(w . (x - mean) / scale + b) over the named features."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    thresholds: dict[str, float] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path, known: tuple[str, ...]) -> Logistic:
        """Read a model file; `known` are the feature names the code computes, in its column order."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                raise ValueError(f"format {raw.get('format')!r}, expected {FORMAT}")
            names = tuple(raw["features"])
            if set(names) - set(known):
                raise ValueError(f"unknown features {sorted(set(names) - set(known))}")
            columns = [known.index(n) for n in names]
            model = cls(names, np.asarray(raw["mean"], float), np.asarray(raw["scale"], float), np.asarray(raw["weights"], float),
                        float(raw["bias"]), {k: float(v) for k, v in (raw.get("thresholds") or {}).items()},
                        {k: v for k, v in raw.items() if k not in ("mean", "scale", "weights")})
            object.__setattr__(model, "_columns", np.asarray(columns, dtype=int))
            return model
        except FileNotFoundError:
            raise BotError(f"The model file {path} is missing: fit it with `python -m eval.fit`.") from None
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise BotError(f"The model file {path} is unusable ({e}): refit it with `python -m eval.fit`.") from None

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """One probability per row of `matrix`, whose columns are the `known` features of `load`."""
        if not len(matrix):
            return np.zeros(0)
        x = (matrix[:, self._columns] - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))

    def threshold(self, name: str) -> float:
        if name not in self.thresholds:
            raise BotError(f"The model file lacks the threshold {name!r}: refit it with `python -m eval.fit`.")
        return self.thresholds[name]
