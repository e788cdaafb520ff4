"""Parse and apply the org chart YAML (contract 3); used by ``import_org_chart`` and the
upload page.

- ``types``: the typed chart (``OrgChart`` and its specs) and ``ImportResult``;
- ``parse``: YAML with line numbers → ``OrgChart``, validation, ``OrgChartInvalid``;
- ``apply``: ``org_chart_apply`` — transaction, one-import-at-a-time lock, dry run;
- ``importer``: the steps of an import (organization, departments, users, deactivation).

The file format is described in ``parse``; what applying changes, in ``importer``.
"""

from __future__ import annotations

from orgs.org_chart.apply import org_chart_apply
from orgs.org_chart.parse import OrgChartInvalid, org_chart_parse
from orgs.org_chart.types import ImportResult, OrgChart

__all__ = [
    "ImportResult",
    "OrgChart",
    "OrgChartInvalid",
    "org_chart_apply",
    "org_chart_parse",
]
