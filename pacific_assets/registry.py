"""The pipeline registry: what a pipeline folder declares about itself, and how it is found.

A pipeline is a sub-package of ``pacific_assets`` with a module ``pipeline.py`` that exports
``PIPELINE``, a ``Pipeline``: its Dagster definitions (assets, checks, jobs, schedules, sensors,
resources), its policy (owners, kinds, SLA, on-call, runbook), per-asset SLA exceptions, the
business cadences its schedules cover and its completeness source. Its lake tables' columns are
declared in the folder's ``columns.py`` (``pacific_assets.columns`` finds them there). Nothing
else lists pipelines: ``discover`` walks the package for ``pipeline.py`` files, and the code
location (``definitions.py``) merges what it finds (docs/adding-a-pipeline.md,
docs/ARCHITECTURE.md "Pipelines are found, not listed").

The declaration stamps everything on the pipeline's own assets (``Pipeline.declare``): owners,
kinds, freshness, the runbook in the description, the SLA and on-call metadata, the completeness
source and the column schema. Operations then reads the graph only (asset metadata, owners,
freshness), never a pipeline's module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import dagster as dg

from pacific_assets.columns import with_column_schema
from pacific_assets.completeness_source import CompletenessSource
from pacific_assets.pipeline_folders import DECLARATION_MODULE, pipeline_packages
from pacific_assets.pipeline_policy import AssetSla, Cadence, PipelinePolicy, grain_of

#: The name every pipeline's ``pipeline.py`` exports its declaration as.
DECLARATION = "PIPELINE"


@dataclass(frozen=True)
class Pipeline:
    """Everything about one pipeline; ``name`` is its asset group and its folder's name."""

    name: str
    defs: dg.Definitions
    policy: PipelinePolicy
    #: The SLA check's completeness record (None: the pipeline has no partitioned SLA).
    completeness: CompletenessSource | None = None
    #: Assets whose SLA is not the pipeline's (None: no SLA of their own).
    asset_slas: Mapping[str, AssetSla | None] = field(default_factory=dict)
    #: The business cadences the pipeline's schedules cover, one schedule each.
    cadences: tuple[Cadence, ...] = ()
    #: Assets that can only be built once every pipeline is merged (their deps come from the
    #: whole graph): called with the merged definitions, returns this pipeline's extra assets.
    from_graph: Callable[[dg.Definitions], dg.Definitions] | None = None
    #: Its own SLA checks (beside the generated newest-expected-partition ones), each with how to
    #: judge it now without running it (``(lake, now) -> verdict``): ``sla_checks_sensor`` runs a
    #: check when its verdict would change.
    sla_verdicts: Mapping[dg.AssetCheckKey, Callable[..., tuple]] = field(default_factory=dict)

    def sla_for(
        self, asset_name: str, partitions_def: dg.PartitionsDefinition | None = None
    ) -> AssetSla | None:
        """The SLA of one of its assets: its own exception, else the pipeline's rule for its
        partition grain, else the pipeline's (None: no SLA)."""
        if asset_name in self.asset_slas:
            return self.asset_slas[asset_name]
        if self.policy.freshness is None:
            return None
        grain = grain_of(partitions_def)
        if grain is not None and grain in self.policy.grain_slas:
            return self.policy.grain_slas[grain]
        return self.policy.default_sla

    def declare_policy(self, spec: dg.AssetSpec) -> dg.AssetSpec:
        """Owners, kinds, freshness, runbook, SLA and on-call metadata on one of its assets."""
        policy = self.policy
        runbook = policy.runbook_markdown
        description = spec.description or ""
        if runbook not in description:
            description = f"{description.strip()}\n\n{runbook}".strip()
        sla = self.sla_for(spec.key.to_user_string(), spec.partitions_def)
        metadata = {**policy.oncall.metadata(), **(sla.metadata() if sla else {})}
        return spec.replace_attributes(
            owners=list(policy.owners),
            kinds=set(spec.kinds) if spec.kinds else set(policy.kinds),
            freshness_policy=sla.freshness if sla is not None else spec.freshness_policy,
            description=description,
        ).merge_attributes(metadata=metadata)

    def declare(self, spec: dg.AssetSpec) -> dg.AssetSpec:
        """``spec`` as the pipeline declares it: policy, completeness source, column schema."""
        if spec.group_name != self.name:
            raise ValueError(
                f"asset {spec.key.to_user_string()} of pipeline {self.name!r} is in group "
                f"{spec.group_name!r}: a pipeline's assets are in its group (its policy is "
                "attached by group)"
            )
        if self.completeness is not None:
            spec = self.completeness.declare(spec)
        return with_column_schema(self.declare_policy(spec))

    def definitions(self) -> dg.Definitions:
        """The pipeline's definitions with every asset declared."""
        return self.defs.map_asset_specs(func=self.declare)

    def definitions_from_graph(self, merged: dg.Definitions) -> dg.Definitions:
        """The assets it builds from the whole graph, declared (empty when it has none)."""
        if self.from_graph is None:
            return dg.Definitions()
        return self.from_graph(merged).map_asset_specs(func=self.declare)


def discover(package: str = "pacific_assets") -> list[Pipeline]:
    """Every pipeline declared under ``package``, in folder order."""
    pipelines = []
    for name in pipeline_packages(package):
        module = importlib.import_module(f"{name}.{DECLARATION_MODULE}")
        pipeline = getattr(module, DECLARATION, None)
        if not isinstance(pipeline, Pipeline):
            raise TypeError(f"{module.__name__} must export {DECLARATION} = Pipeline(...)")
        folder = name.rsplit(".", 1)[-1]
        if pipeline.name != folder:
            raise ValueError(
                f"{module.__name__} declares pipeline {pipeline.name!r}: use {folder!r}"
            )
        pipelines.append(pipeline)
    return pipelines


def code_location(pipelines: Iterable[Pipeline], shared: dg.Definitions) -> dg.Definitions:
    """The pipelines' declared definitions merged with ``shared`` (resources, executor), plus
    the assets each pipeline builds from the merged graph."""
    pipelines = list(pipelines)
    merged = dg.Definitions.merge(*(p.definitions() for p in pipelines), shared)
    return dg.Definitions.merge(merged, *(p.definitions_from_graph(merged) for p in pipelines))


def own_sla_verdicts(
    pipelines: Iterable[Pipeline],
) -> dict[dg.AssetCheckKey, Callable[..., tuple]]:
    """Every pipeline's own SLA checks with their judges, for ``operations.with_operations``."""
    return {key: judge for p in pipelines for key, judge in p.sla_verdicts.items()}
