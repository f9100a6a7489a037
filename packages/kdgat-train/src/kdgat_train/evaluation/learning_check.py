"""Did a model learn anything? A validation AUROC within sampling noise of 0.5 says it did not.

The noise is the standard error of the AUROC of a detector that ranks at random (Hanley and McNeil,
1982: ``sqrt((P + N + 1) / (12 P N))`` for P attack and N normal windows); a run whose validation AUROC
lies within two of them of 0.5 is flagged, in its run summary, its run.json tags and the tables.
"""

from __future__ import annotations

import math


def chance_auroc_noise(attack: int, normal: int) -> float:
    """Standard error of the AUROC of a random ranking of ``attack`` + ``normal`` windows (inf when one is 0)."""
    if attack <= 0 or normal <= 0:
        return math.inf
    return math.sqrt((attack + normal + 1) / (12 * attack * normal))


def learned_nothing(metrics: dict[str, float], split: str = "val") -> str | None:
    """Why the run's ``split`` AUROC says it learned nothing, or None (it ranks, or AUROC is undefined)."""
    auroc = metrics.get(f"{split}/auroc")
    attack, normal = int(metrics.get(f"{split}/attack_windows", 0)), int(metrics.get(f"{split}/normal_windows", 0))
    noise = chance_auroc_noise(attack, normal)
    if auroc is None or math.isnan(auroc) or math.isinf(noise) or abs(auroc - 0.5) > 2 * noise:
        return None
    return (f"validation AUROC {auroc:.3f} is within noise of chance (0.5 ± {2 * noise:.3f} at {attack} attack / "
            f"{normal} normal windows): the model learned nothing")
