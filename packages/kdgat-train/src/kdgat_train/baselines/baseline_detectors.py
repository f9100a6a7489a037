"""The baseline detectors, each a fit on training-window statistics and a score per window.

- ``gbdt`` (supervised): scikit-learn `HistGradientBoostingClassifier` with balanced class weights;
  score = P(attack).
- ``timing`` (CAN only, unsupervised): the window's largest per-ID inter-arrival z-score against the
  ID's period on normal training frames (the statistic ``id_gap_z_max_abs``), in units of its 99th
  percentile on normal training windows, plus the window's frames of IDs never seen in training
  (``unseen_share`` x ``frames``): each unknown-ID frame weighs as much as an inter-arrival deviation
  at that percentile. Without the count, fuzzing (random IDs, whose timing has no training period)
  went unseen by the rule practitioners use.
- ``pca`` (unsupervised): on plant data, the PCA residual of the z-scored readings: the cache fits
  the principal axes keeping 95 % of the variance of the normal training rows and stores each
  window's mean squared row residual (the statistic ``reading_pca_residual_mean``); elsewhere PCA
  keeping 95 % of the variance of the standardised statistics of normal training windows, score =
  squared reconstruction residual.
- ``iforest`` (unsupervised): `IsolationForest` on the statistics of normal training windows;
  score = the negated sample score (higher = more anomalous).

Unsupervised detectors see normal training windows only. Every detector reports its size
(``parameters``: tree nodes or fitted values) like the graph models.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kdgat_train.baselines.baseline_methods import APPLICABLE

TIMING_STATISTIC = "id_gap_z_max_abs"
UNSEEN_STATISTICS = ("unseen_share", "frames")  # their product: the window's frames of IDs unknown to training
TIMING_QUANTILE = 0.99
READING_RESIDUAL_STATISTIC = "reading_pca_residual_mean"


class BaselineNotApplicable(ValueError):
    """A baseline that cannot run on this dataset (a domain it does not cover, one class in training)."""


class BaselineDetector:
    """A fitted baseline: ``fit(stats, labels)`` on training windows, ``score(stats)`` per window.

    Args:
        method: gbdt | timing | pca | iforest.
        names: the F statistic names (columns of the stats matrices).
        seed: random state of the fitted estimators.

    Shapes:
        stats: (G, F) float32 window statistics; labels: (G,) 0/1; scores: (G,) float64.
    """

    def __init__(self, *, method: str, names: tuple[str, ...], seed: int = 0) -> None:
        if method not in APPLICABLE:
            raise ValueError(f"baseline {method!r}: expected one of {', '.join(APPLICABLE)}")
        self.method, self.names, self.seed = method, tuple(names), seed
        self.model = None
        self.parameters = 0.0

    def fit(self, stats: np.ndarray, labels: np.ndarray) -> BaselineDetector:
        stats = np.asarray(stats, np.float64)  # float32 squares overflow on far-out plant windows
        labels = np.asarray(labels).astype(int)
        normal = stats[labels == 0]
        if self.method == "gbdt":
            if labels.min() == labels.max():
                raise BaselineNotApplicable("gbdt needs attack and normal windows in the training split")
            self.model = HistGradientBoostingClassifier(class_weight="balanced", random_state=self.seed).fit(stats, labels)
            self.parameters = float(sum(len(tree.nodes) for trees in getattr(self.model, "_predictors", []) for tree in trees))
        elif self.method == "timing":
            if not {TIMING_STATISTIC, *UNSEEN_STATISTICS} <= set(self.names):
                raise BaselineNotApplicable("timing needs CAN frames (per-ID inter-arrival statistics)")
            self._require_normals(normal)
            scale = float(np.quantile(normal[:, self.names.index(TIMING_STATISTIC)], TIMING_QUANTILE))
            self.model = {"z_scale": scale if scale > 0 else 1.0}
            self.parameters = 1.0  # the z scale; the per-ID periods were fitted with the cache, counted by the caller
        elif self.method == "pca" and READING_RESIDUAL_STATISTIC in self.names:
            self.parameters = 0.0  # the principal axes were fitted with the cache; counted by the caller
        elif self.method == "pca":
            self._require_normals(normal)
            self.model = make_pipeline(StandardScaler(), PCA(n_components=0.95, svd_solver="full", random_state=self.seed))
            self.model.fit(normal)
            pca = self.model[-1]
            self.parameters = float(pca.components_.size + pca.mean_.size + 2 * stats.shape[1])
        else:
            self._require_normals(normal)
            self.model = IsolationForest(random_state=self.seed).fit(normal)
            self.parameters = float(sum(tree.tree_.node_count for tree in self.model.estimators_))
        return self

    def score(self, stats: np.ndarray) -> np.ndarray:
        """(G,) attack scores, higher = more attack-like."""
        if not len(stats):
            return np.zeros(0)
        stats = np.asarray(stats, np.float64)
        if self.method == "gbdt":
            return self.model.predict_proba(stats)[:, 1].astype(np.float64)
        if self.method == "timing":
            unseen_frames = stats[:, self.names.index("unseen_share")] * stats[:, self.names.index("frames")]
            return stats[:, self.names.index(TIMING_STATISTIC)] / self.model["z_scale"] + unseen_frames
        if self.method == "pca" and READING_RESIDUAL_STATISTIC in self.names:
            return stats[:, self.names.index(READING_RESIDUAL_STATISTIC)].astype(np.float64)
        if self.method == "pca":
            scaled = self.model[0].transform(stats)
            pca = self.model[-1]
            residual = scaled - pca.inverse_transform(pca.transform(scaled))
            return (residual**2).sum(1).astype(np.float64)
        return -self.model.score_samples(stats).astype(np.float64)

    @staticmethod
    def _require_normals(normal: np.ndarray) -> None:
        if len(normal) < 2:
            raise BaselineNotApplicable("fewer than 2 normal training windows to fit on")


__all__ = ["BaselineDetector", "BaselineNotApplicable"]
