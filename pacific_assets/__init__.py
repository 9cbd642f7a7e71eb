"""Pacific Assets: Dagster asset graph for Pacific's SaaS metrics (see README.md)."""

import warnings

# Backfill policies, partition-mapping options and Definitions.map_asset_specs are Dagster
# beta/preview APIs this project uses on purpose (docs/ARCHITECTURE.md "Execution"); without this
# every run process would print dozens of the same warnings when it imports the code location.
warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview).*")
