"""Pydantic contracts that two or more kdgat packages must agree on. Imports nothing heavier than pydantic."""

from kdgat_schemas.atomic_write import atomic_write
from kdgat_schemas.dataset_catalog import CatalogFileError, catalog_index, read_catalog_entries
from kdgat_schemas.dataset_manifest import (
    DEFAULT_MIN_CLASS_WINDOWS,
    DatasetManifest,
    SourceFile,
    SplitSummary,
    build_cache_key,
    class_shortfall,
)
from kdgat_schemas.experiment_name import (
    BASELINES,
    DISTILLATIONS,
    DOMAIN_HAS_VOCABULARY,
    DOMAINS,
    LEARNING_MODELS,
    MODES,
    SIZES,
    ExperimentName,
    ExperimentNameError,
    all_stage_names,
    dataset_token,
    register_domain,
)
from kdgat_schemas.job_spec import JobResources, JobSpec, UnsafeValueError, check_safe_argument
from kdgat_schemas.model_registration import register_model
from kdgat_schemas.pipeline_dag import PipelineStage, pipeline_stages
from kdgat_schemas.project import find_project_root
from kdgat_schemas.run_folder import RunFolder, RunFolderError
from kdgat_schemas.run_paths import RunPaths
from kdgat_schemas.run_record import RunRecord, RunStatus
from kdgat_schemas.upstream_rules import UPSTREAM_RULES, UpstreamNeed, UpstreamRule, upstream, upstream_needs

__all__ = [
    "CatalogFileError",
    "catalog_index",
    "read_catalog_entries",
    "UPSTREAM_RULES",
    "UpstreamNeed",
    "UpstreamRule",
    "upstream",
    "upstream_needs",
    "BASELINES",
    "DISTILLATIONS",
    "DOMAIN_HAS_VOCABULARY",
    "DOMAINS",
    "register_domain",
    "register_model",
    "LEARNING_MODELS",
    "MODES",
    "SIZES",
    "DEFAULT_MIN_CLASS_WINDOWS",
    "DatasetManifest",
    "class_shortfall",
    "JobResources",
    "JobSpec",
    "PipelineStage",
    "UnsafeValueError",
    "atomic_write",
    "check_safe_argument",
    "find_project_root",
    "pipeline_stages",
    "ExperimentName",
    "ExperimentNameError",
    "RunFolder",
    "RunFolderError",
    "RunPaths",
    "RunRecord",
    "RunStatus",
    "SourceFile",
    "SplitSummary",
    "all_stage_names",
    "build_cache_key",
    "dataset_token",
]
