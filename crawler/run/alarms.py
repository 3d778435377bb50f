"""Coverage alarms: a field's coverage, or the site profile's share, far below earlier runs.

After a site redesign the site's selectors stop matching and fields go missing; the run report
(crawler/run/report.py) compares this run's coverage with the median of the comparable earlier
runs (the same kind of run: ``run_kind``) and raises an alarm for each figure that fell by more
than REPORT_COVERAGE_DROP, or, for the share of records whose extraction is uncertain, rose by
as much; an alarm becomes exit status 3 (crawler/run/outcome.py).
"""

from __future__ import annotations

import statistics
from typing import Any

COVERAGE_FIELDS = ("title", "lead", "body", "published_date", "published_month", "published_at",
                   "authors", "images", "section_name")
LAYER_FIELDS = ("title", "published_raw", "lead", "body")
NO_TEMPLATE = "none"
# Earlier runs a coverage figure is compared with (the median of the newest of them).
PREVIOUS_RUNS_COMPARED = 5


def run_kind(report: dict[str, Any]) -> tuple[Any, ...]:
    """Return what makes two runs comparable: mode, date range and source (a nightly is a nightly).

    A backfill of 2011-2015 meets other templates, bylines and photos than the nightly of this
    week: comparing their coverage would raise alarms that say nothing about the site."""
    return (report.get("mode"), report.get("since"), report.get("until"),
            report.get("source") or "live")


def _drop_alarm(what: str, values: list[float], now: float | None, drop: float) -> str | None:
    return _moved_alarm(what, values, now, drop, rising=False)


def _rise_alarm(what: str, values: list[float], now: float | None, drop: float) -> str | None:
    """The alarm of a share that should stay low (uncertain extractions): risen by ``drop``."""
    return _moved_alarm(what, values, now, drop, rising=True)


def _moved_alarm(what: str, values: list[float], now: float | None, by: float, *,
                 rising: bool) -> str | None:
    """Say how a share moved from the median of earlier runs, when it moved ``by`` or more the
    way that is bad (down, or up when ``rising``)."""
    values = [v for v in values if v is not None]
    if not values or now is None:
        return None
    baseline = statistics.median(values)
    if (now - baseline if rising else baseline - now) < by:
        return None
    return (f"{what} {'rose' if rising else 'fell'} from {baseline:.0%} (median of "
            f"{len(values)} earlier runs) to {now:.0%}")


def coverage_alarms(current: dict[str, Any], previous: list[dict[str, Any]], *,
                    drop: float, min_records: int, kind: tuple[Any, ...] | None = None
                    ) -> list[str]:
    """Return an alarm for each coverage figure far below its median over comparable earlier runs.

    Field coverage, and the share of records some site template matched, are compared with the
    earlier runs of the same ``kind`` (run_kind; all of them when ``kind`` is None). The share of
    each field the site layer gave is compared template by template, with every earlier run
    that met the template: a template's selectors either still work or not, whatever the era;
    a redesign shows as records no template matches. (A coverage without ``by_template``, from
    an older report, is compared field by field as a whole.)"""
    if current["records"] < min_records:
        return []
    comparable = [run for run in previous if run["coverage"]["records"] >= min_records]
    same_kind = [run["coverage"] for run in comparable
                 if kind is None or run_kind(run) == kind][:PREVIOUS_RUNS_COMPARED]
    alarms: list[str | None] = []
    for name in COVERAGE_FIELDS:
        alarms.append(_drop_alarm(f"coverage of {name}",
                                  [run.get("fields", {}).get(name) for run in same_kind],
                                  current["fields"].get(name), drop))
    if "by_template" not in current:
        for name in LAYER_FIELDS:
            alarms.append(_drop_alarm(
                f"site-profile share of {name}",
                [run.get("site_layer", {}).get(name) for run in same_kind],
                current["site_layer"].get(name), drop))
        return [a for a in alarms if a]
    alarms.append(_rise_alarm("share of records with an uncertain extraction",
                              [run.get("uncertain_share") for run in same_kind],
                              current.get("uncertain_share"), drop))
    alarms.append(_drop_alarm("share of records a site template matched",
                              [run.get("templates_matched") for run in same_kind],
                              current.get("templates_matched"), drop))
    for template, now in sorted(current["by_template"].items()):
        if template == NO_TEMPLATE or now["records"] < min_records:
            continue
        earlier = [run["coverage"].get("by_template", {}).get(template) for run in comparable]
        earlier = [e for e in earlier if e and e["records"] >= min_records]
        earlier = earlier[:PREVIOUS_RUNS_COMPARED]
        for name in LAYER_FIELDS:
            alarms.append(_drop_alarm(
                f"site-profile share of {name} on {template} pages",
                [e["site_layer"].get(name) for e in earlier], now["site_layer"].get(name), drop))
    return [a for a in alarms if a]
