"""The preset-name grammar of DESIGN.md §5: parse, validate and format experiment names.

A stage preset is ``{domain}_{dataset}_{learning}_{model}_{size}_{distillation}_{mode}``, a
pipeline preset is ``{domain}_{dataset}_pipeline`` and a baseline run is
``{domain}_{dataset}_baseline_{method}`` (method: one of `BASELINES`). Every token is lower case; the dataset token is
the catalog key without underscores (``hcrl_ch`` -> ``hcrlch``).
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

DOMAINS = ["automotive", "internet", "watertreatment"]  # the built-ins; `register_domain` adds one
# whether a domain's entities have a fixed vocabulary (CAN IDs, plant tags: yes; hosts: no). The
# presets need it (no ID embedding or ID decoders without one) before any domain adapter is imported;
# each adapter's ``has_vocabulary`` is this value (registering an adapter checks they agree).
DOMAIN_HAS_VOCABULARY = {"automotive": True, "internet": False, "watertreatment": True}
_DOMAIN_TOKEN = re.compile(r"^[a-z]+$")
# mlp: the graph-less student (pooled node features, no message passing), distilled from the GAT teacher
LEARNING_MODELS = {"unsupervised": ("vgae",), "supervised": ("gat", "mlp"), "fusion": ("dqn",)}
SIZES = ("teacher", "student")
DISTILLATIONS = ("no", "standard")
MODES = {"vgae": ("all_samples", "normals_only"), "gat": ("all_samples", "curriculum"), "mlp": ("all_samples",),
         "dqn": ("all_samples",)}
PIPELINE = "pipeline"
BASELINE = "baseline"
BASELINES = ("gbdt", "timing", "pca", "iforest")

_DATASET_TOKEN = re.compile(r"^[a-z0-9]+$")


def register_domain(domain: str, *, has_vocabulary: bool) -> None:
    """Make ``domain`` a known domain of names, presets and catalogs (a domain beyond the built-ins,
    registered by its adapter: `kdgat_data.domains.register_adapter`).

    Raises:
        ExperimentNameError: ``domain`` is not lower-case letters, or is known with another ``has_vocabulary``.
    """
    if not _DOMAIN_TOKEN.match(domain):
        raise ExperimentNameError(f"domain {domain!r}: expected lower-case letters only (names split on '_')")
    if domain in DOMAINS:
        if DOMAIN_HAS_VOCABULARY[domain] is not bool(has_vocabulary):
            raise ExperimentNameError(f"domain {domain!r} is known with has_vocabulary="
                                      f"{DOMAIN_HAS_VOCABULARY[domain]}, not {bool(has_vocabulary)}")
        return
    DOMAINS.append(domain)
    DOMAIN_HAS_VOCABULARY[domain] = bool(has_vocabulary)


class ExperimentNameError(ValueError):
    """A name that does not follow the grammar; the message names the token and its allowed values."""


def dataset_token(catalog_key: str) -> str:
    """The dataset token of a catalog key: ``hcrl_ch`` -> ``hcrlch``, ``set_01`` -> ``set01``."""
    token = catalog_key.replace("_", "").lower()
    if not _DATASET_TOKEN.match(token):
        raise ExperimentNameError(
            f"dataset key {catalog_key!r} gives token {token!r}; expected letters and digits only"
        )
    return token


def _closest(value: str, allowed: tuple[str, ...]) -> str:
    nearest = difflib.get_close_matches(value, allowed, n=1, cutoff=0.0)
    return nearest[0] if nearest else allowed[0]


def _check(token_name: str, value: str, allowed: tuple[str, ...], name: str, nearest_name: str | None = None) -> None:
    if value in allowed:
        return
    hint = f"; nearest valid name: {nearest_name}" if nearest_name else f"; did you mean {_closest(value, allowed)!r}?"
    raise ExperimentNameError(
        f"experiment name {name!r}: {token_name} {value!r} is not allowed; "
        f"expected one of {', '.join(allowed)}{hint}"
    )


def _nearest_stage_name(domain: str, dataset: str, learning: str, model: str, size: str, distillation: str, mode: str) -> str:
    """The valid stage name closest to the given tokens, token by token."""
    domain = _closest(domain, DOMAINS)
    dataset = re.sub(r"[^a-z0-9]", "", dataset.lower()) or "synthetic"
    learning = _closest(learning, tuple(LEARNING_MODELS))
    model = _closest(model, LEARNING_MODELS[learning])
    size = _closest(size, SIZES)
    distillation = _closest(distillation, DISTILLATIONS)
    mode = _closest(mode, MODES[model])
    return "_".join([domain, dataset, learning, model, size, distillation, mode])


class ExperimentName(BaseModel):
    """One validated experiment (preset) name.

    ``learning``, ``model``, ``size``, ``distillation`` and ``mode`` are ``None`` for a pipeline name;
    a baseline name has ``learning="baseline"``, ``model`` = the method and no size, distillation or mode.

    Example:
        >>> name = ExperimentName.parse("automotive_hcrlch_unsupervised_vgae_student_no_all_samples")
        >>> name.mode, name.experiment
        ('all_samples', 'automotive_hcrlch_unsupervised_vgae')
    """

    model_config = ConfigDict(frozen=True)

    domain: str
    dataset: str
    learning: Literal["unsupervised", "supervised", "fusion", "baseline"] | None = None
    model: str | None = None  # a model of LEARNING_MODELS (or a baseline method), checked below
    size: Literal["teacher", "student"] | None = None
    distillation: Literal["no", "standard"] | None = None
    mode: str | None = None

    @model_validator(mode="after")
    def _validate_tokens(self) -> ExperimentName:
        name = self.format()
        _check("domain", self.domain, DOMAINS, name)
        _check_dataset(self.dataset, name)
        stage_fields = (self.learning, self.model, self.size, self.distillation, self.mode)
        if all(value is None for value in stage_fields):
            return self
        if self.learning == BASELINE:
            _check("baseline", str(self.model), BASELINES, name)
            if any(value is not None for value in (self.size, self.distillation, self.mode)):
                raise ExperimentNameError(f"experiment name {name!r}: a baseline has no size, distillation or mode")
            return self
        if any(value is None for value in stage_fields):
            raise ExperimentNameError(f"experiment name {name!r}: a stage name needs all seven tokens")
        _check("model", self.model, LEARNING_MODELS[self.learning], name)
        _check(f"mode of {self.model}", self.mode, MODES[self.model], name)
        return self

    @property
    def is_pipeline(self) -> bool:
        return self.learning is None

    @property
    def is_baseline(self) -> bool:
        return self.learning == BASELINE

    @property
    def experiment(self) -> str:
        """MLflow experiment name ``{domain}_{dataset}_{learning}_{model}`` (DESIGN §6)."""
        if self.is_pipeline:
            return f"{self.domain}_{self.dataset}_{PIPELINE}"
        return f"{self.domain}_{self.dataset}_{self.learning}_{self.model}"  # a baseline: {domain}_{dataset}_baseline_{method}

    @property
    def variant(self) -> str:
        """``{size}_{distillation}_{mode}``, the run-name prefix inside an experiment."""
        if self.is_pipeline:
            return PIPELINE
        if self.is_baseline:
            return BASELINE
        return f"{self.size}_{self.distillation}_{self.mode}"

    def format(self) -> str:
        if self.learning is None:
            return f"{self.domain}_{self.dataset}_{PIPELINE}"
        if self.is_baseline:
            return f"{self.domain}_{self.dataset}_{BASELINE}_{self.model}"
        return "_".join(
            [self.domain, self.dataset, self.learning, self.model, self.size, self.distillation, self.mode]
        )

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def parse(cls, name: str) -> ExperimentName:
        """Parse ``name``; raise `ExperimentNameError` naming the failing token and its allowed values."""
        if name != name.lower():
            raise ExperimentNameError(f"experiment name {name!r} must be lower case (try {name.lower()!r})")
        tokens = name.split("_")
        if len(tokens) == 3 and tokens[2] == PIPELINE:
            domain, dataset = tokens[0], tokens[1]
            _check("domain", domain, DOMAINS, name, f"{_closest(domain, DOMAINS)}_{dataset}_{PIPELINE}")
            _check_dataset(dataset, name)
            return cls(domain=domain, dataset=dataset)
        if len(tokens) == 4 and tokens[2] == BASELINE:
            domain, dataset, method = tokens[0], tokens[1], tokens[3]
            _check("domain", domain, DOMAINS, name, f"{_closest(domain, DOMAINS)}_{dataset}_{BASELINE}_{method}")
            _check_dataset(dataset, name)
            _check("baseline", method, BASELINES, name)
            return cls(domain=domain, dataset=dataset, learning=BASELINE, model=method)
        if len(tokens) < 7:
            raise ExperimentNameError(
                f"experiment name {name!r} has {len(tokens)} tokens; expected "
                "{domain}_{dataset}_{learning}_{model}_{size}_{distillation}_{mode}, "
                "{domain}_{dataset}_pipeline or {domain}_{dataset}_baseline_{method}"
            )
        domain, dataset, learning, model, size, distillation = tokens[:6]
        mode = "_".join(tokens[6:])
        nearest = _nearest_stage_name(domain, dataset, learning, model, size, distillation, mode)
        _check("domain", domain, DOMAINS, name, nearest)
        _check_dataset(dataset, name)
        _check("learning", learning, tuple(LEARNING_MODELS), name, nearest)
        _check(f"model of {learning}", model, LEARNING_MODELS[learning], name, nearest)
        _check("size", size, SIZES, name, nearest)
        _check("distillation", distillation, DISTILLATIONS, name, nearest)
        _check(f"mode of {model}", mode, MODES[model], name, nearest)
        return cls(
            domain=domain, dataset=dataset, learning=learning, model=model,
            size=size, distillation=distillation, mode=mode,
        )


def _check_dataset(dataset: str, name: str) -> None:
    if not _DATASET_TOKEN.match(dataset):
        raise ExperimentNameError(
            f"experiment name {name!r}: dataset {dataset!r} must be letters and digits "
            "(the catalog key without underscores, e.g. hcrlch, set01, synthetic)"
        )


def all_stage_names(domain: str, dataset: str) -> list[ExperimentName]:
    """Every valid stage name for one domain and dataset token, in a stable order."""
    names = []
    for learning, models in LEARNING_MODELS.items():
        for model in models:
            for size in SIZES:
                for distillation in DISTILLATIONS:
                    for mode in MODES[model]:
                        names.append(
                            ExperimentName(
                                domain=domain, dataset=dataset, learning=learning, model=model,
                                size=size, distillation=distillation, mode=mode,
                            )
                        )
    return names
