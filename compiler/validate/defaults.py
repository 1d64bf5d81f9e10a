"""The checks compile and validate both run, in one place so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping

from .admission import ADMITTED_CHECK, CEL_CHECK, PARAMS_CHECK, check_admitted, check_params
from .baseline import BASELINE_CHECKS, BASELINE_IDS
from .checks import Check, check_duplicates
from .ordering import CHART_CRD_GROUPS, ordering_check
from .references import REFERENCE_CHECKS


def default_checks(chart_groups: Mapping[str, frozenset[str]] | None = None) -> tuple[Check, ...]:
    """Duplicates, references, ordering and the security baseline.

    `chart_groups` adds chart → CRD groups pairs to the built-in table (compile passes what
    its components declare, so a new chart is ordered correctly before the table knows it).
    """
    groups = dict(CHART_CRD_GROUPS)
    for chart, provided in (chart_groups or {}).items():
        groups[chart] = groups.get(chart, frozenset()) | frozenset(provided)
    return (
        check_duplicates,
        *REFERENCE_CHECKS,
        ordering_check(groups),
        check_params,
        check_admitted,
        *BASELINE_CHECKS,
    )


DEFAULT_CHECKS: tuple[Check, ...] = default_checks()

# Finding check ids a user may skip with `platformc validate --skip-check ID`.
CHECK_IDS: frozenset[str] = frozenset(
    {"duplicate", "reference", "ordering", CEL_CHECK, PARAMS_CHECK, ADMITTED_CHECK, *BASELINE_IDS}
)
