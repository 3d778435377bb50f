"""``python -m crawler report``: one self-contained HTML page about an archive, charts by plotly.

The page needs no network: plotly's JavaScript is inlined once, the figures follow as plain JSON.
What it shows, and where each number comes from:

- articles per month over the whole range (each article once, in the month of its latest version's
  ``published_month``), with the months where sources promised more than the archive holds marked
  as holes (crawler/analysis/promises.py says what "promised" means);
- per-field coverage and the share each extraction layer gave, run by run (``runs/*.json``);
- articles by section (crawler/analysis/sections.py: one key across both CMS generations);
- rejects by reason (every line of ``rejects/``, the reason without its particulars);
- the history of runs: new, updated, requests, alarms (``runs/*.json``).

``collect`` computes the numbers (pure data, tested against the archive), ``render`` draws them.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.analysis.promises import missing_by_month, promised_missing, reason_kind
from crawler.analysis.sections import ArchiveSections, SectionRow, names_printed, section_table
from crawler.items import record_key
from crawler.normalise.dates import VN_TZ, month_range
from crawler.store.archive import iter_records, partition_of
from crawler.store.scratch import scratch_db

REPORT = "report.html"
SECTION_FIELDS = ("section", "section_name", "section_key", "cms", "provenance",
                  "published_month", "published_date")
LAYER_COLOURS = {"site": "#2b7a3d", "metadata": "#3b6fb6", "heuristic": "#d08a1e",
                 "listing": "#7c4dab", "url": "#888888", "byline": "#4aa3a3", "body": "#b5533c",
                 "text-dump": "#a0a0a0", "derived": "#cccccc"}


@dataclass
class MonthCount:
    """One month of the range: articles archived, and promised ones missing (by reason)."""

    month: str
    archived: int
    missing: Counter[str] = field(default_factory=Counter)

    @property
    def hole(self) -> bool:
        """True when the sources promised more articles than the archive holds."""
        return sum(self.missing.values()) > 0


@dataclass
class ReportData:
    """Every number the page shows."""

    archive: str
    generated_at: str
    articles: int
    article_lines: int
    months: list[MonthCount]
    runs: list[dict[str, Any]]
    rejects: Counter[str]
    reject_lines: int
    sections: list[SectionRow] = field(default_factory=list)

    @property
    def holes(self) -> list[MonthCount]:
        """The months the archive holds fewer articles than promised."""
        return [m for m in self.months if m.hole]


def load_runs(root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Return the run reports of an archive, oldest first (unreadable ones are skipped)."""
    runs = []
    for path in sorted((Path(root) / "runs").glob("*.json")):
        try:
            report = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(report, dict) and report.get("started_at"):
            report["_file"] = path.name
            runs.append(report)
    runs.sort(key=lambda r: (r["started_at"], r["_file"]))
    # Charts put runs on a category axis: each needs its own label, even two runs in a second.
    seen: Counter[str] = Counter()
    for run in runs:
        label = f"{run['started_at'][:19].replace('T', ' ')} {run.get('mode') or ''}".strip()
        seen[label] += 1
        run["_label"] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    return runs


def collect(root: str | os.PathLike[str]) -> ReportData:
    """Return the report's numbers for an archive."""
    base = Path(root)
    # Each article's latest version, by key, in a scratch database: not in memory; with what
    # the section table needs of it.
    db = scratch_db("CREATE TABLE latest (key TEXT PRIMARY KEY, version INTEGER, month TEXT,"
                    " section TEXT);")
    try:
        lines = 0
        batch = []
        for record in iter_records(base):
            lines += 1
            month = partition_of(record)
            batch.append((record_key(record), record.get("version") or 1,
                          month if month != "undated" else "",
                          json.dumps({name: record.get(name) for name in SECTION_FIELDS
                                      if name in record}, ensure_ascii=False)))
            if len(batch) >= 5000:
                _add_latest(db, batch)
        _add_latest(db, batch)
        articles = db.execute("SELECT COUNT(*) FROM latest").fetchone()[0]
        per_month = dict(db.execute("SELECT month, COUNT(*) FROM latest WHERE month != ''"
                                    " GROUP BY month"))

        def chosen() -> Iterator[dict[str, Any]]:
            return (json.loads(row[0]) for row in db.execute("SELECT section FROM latest"))

        sections = section_table(chosen(), ArchiveSections.of(base, names_printed(chosen())))
        missing = missing_by_month(promised_missing(base, db))
    finally:
        db.close()
    known = sorted(set(per_month) | set(missing))
    months = [MonthCount(m, per_month.get(m, 0), missing.get(m, Counter()))
              for m in (month_range(known[0], known[-1]) if known else [])]
    rejects: Counter[str] = Counter()
    for reject in iter_records(base, "rejects"):
        rejects[reason_kind(str(reject.get("reason", "")))] += 1
    return ReportData(
        archive=str(base), generated_at=dt.datetime.now(VN_TZ).replace(microsecond=0).isoformat(),
        articles=articles, article_lines=lines, months=months, runs=load_runs(base),
        rejects=rejects, reject_lines=sum(rejects.values()), sections=sections)


def _add_latest(db: Any, batch: list[tuple[str, int, str, str]]) -> None:
    """Keep each article's latest version (a later line of the same version wins)."""
    db.executemany("INSERT INTO latest VALUES(?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                   " version = excluded.version, month = excluded.month,"
                   " section = excluded.section"
                   " WHERE excluded.version >= latest.version", batch)
    batch.clear()


# --- figures ---------------------------------------------------------------------------------


def _run_label(run: dict[str, Any]) -> str:
    return run["_label"]


def _layout(fig: Any, title: str, height: int = 420) -> Any:
    fig.update_layout(title=title, height=height, margin={"l": 60, "r": 30, "t": 60, "b": 60},
                      legend={"orientation": "h", "y": -0.2}, template="plotly_white")
    return fig


def months_figure(data: ReportData) -> Any:
    """Bars of articles per month; promised-but-missing stacked in red; hole months shaded."""
    import plotly.graph_objects as go

    x = [m.month for m in data.months]
    missing = [sum(m.missing.values()) for m in data.months]
    why = ["<br>".join(f"{n} {reason}" for reason, n in m.missing.most_common()) or "none"
           for m in data.months]
    fig = go.Figure()
    fig.add_bar(name="archived", x=x, y=[m.archived for m in data.months],
                marker_color="#3b6fb6", hovertemplate="%{x}: %{y} archived<extra></extra>")
    fig.add_bar(name="promised, missing (hole)", x=x, y=missing, marker_color="#d62728",
                customdata=why, hovertemplate="%{x}: %{y} missing<br>%{customdata}<extra></extra>")
    for index, month in enumerate(data.months):
        if month.hole:
            fig.add_vrect(x0=index - 0.5, x1=index + 0.5, fillcolor="#d62728", opacity=0.12,
                          line_width=0, layer="below")
    fig.update_layout(barmode="stack", xaxis={"type": "category", "title": "month published"},
                      yaxis={"title": "articles"})
    return _layout(fig, f"Articles per month ({len(data.holes)} hole(s) marked in red)")


def coverage_figure(data: ReportData) -> Any:
    """Lines of each field's coverage (share of records with it), run by run."""
    import plotly.graph_objects as go

    fig = go.Figure()
    runs = [r for r in data.runs if r.get("coverage", {}).get("records")]
    fields: list[str] = []
    for run in runs:
        fields += [f for f in run["coverage"].get("fields", {}) if f not in fields]
    for name in fields:
        fig.add_scatter(name=name, mode="lines+markers", x=[_run_label(r) for r in runs],
                        y=[r["coverage"]["fields"].get(name) for r in runs],
                        hovertemplate=f"{name}: %{{y:.1%}}<extra>%{{x}}</extra>")
    fig.update_layout(yaxis={"title": "share of the run's records", "tickformat": ".0%",
                             "range": [0, 1.05]}, xaxis={"type": "category", "title": "run"})
    return _layout(fig, "Coverage per field, by run")


def layers_figure(data: ReportData) -> Any:
    """Stacked bars of the share each extraction layer gave, per field, run by run."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    runs = [r for r in data.runs if r.get("coverage", {}).get("records")]
    fields: list[str] = []
    layers: list[str] = []
    for run in runs:
        for name, counts in run["coverage"].get("layers", {}).items():
            fields += [name] if name not in fields else []
            layers += [layer for layer in counts if layer not in layers]
    fig = make_subplots(rows=max(len(fields), 1), cols=1, shared_xaxes=True,
                        subplot_titles=fields or ["no run has coverage yet"],
                        vertical_spacing=0.08)
    labels = [_run_label(r) for r in runs]
    for row, name in enumerate(fields, start=1):
        for layer in layers:
            shares = [r["coverage"]["layers"].get(name, {}).get(layer, 0) /
                      r["coverage"]["records"] for r in runs]
            fig.add_trace(go.Bar(name=layer, x=labels, y=shares, legendgroup=layer,
                                 showlegend=row == 1,
                                 marker_color=LAYER_COLOURS.get(layer),
                                 hovertemplate=f"{name} from {layer}: %{{y:.1%}}<extra>%{{x}}"
                                               "</extra>"), row=row, col=1)
        fig.update_yaxes(tickformat=".0%", range=[0, 1], row=row, col=1)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    return _layout(fig, "Share each extraction layer gave, by field and run",
                   height=180 * max(len(fields), 1) + 120)


def rejects_figure(data: ReportData) -> Any:
    """Horizontal bars: reject lines by reason."""
    import plotly.graph_objects as go

    reasons = data.rejects.most_common()
    fig = go.Figure()
    fig.add_bar(orientation="h", y=[r for r, _ in reasons], x=[n for _, n in reasons],
                text=[str(n) for _, n in reasons], textposition="outside", cliponaxis=False,
                marker_color="#b5533c", name="rejects",
                hovertemplate="%{y}: %{x}<extra></extra>")
    fig.update_layout(yaxis={"autorange": "reversed", "type": "category"},
                      xaxis={"title": "reject lines in rejects/"})
    title = f"Rejects by reason ({data.reject_lines} lines)"
    return _layout(fig, title, height=max(260, 40 * len(reasons) + 140))


def runs_figure(data: ReportData) -> Any:
    """Bars of new and updated articles per run, with the run's requests on a second axis."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    labels = [_run_label(r) for r in data.runs]
    counts = [r.get("counts", {}) for r in data.runs]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for name, colour in (("new", "#2b7a3d"), ("updated", "#d08a1e")):
        values = [c.get(name, 0) for c in counts]
        fig.add_trace(go.Bar(name=name, x=labels, y=values, marker_color=colour,
                             text=[str(v) for v in values], textposition="outside",
                             cliponaxis=False), secondary_y=False)
    fig.add_trace(go.Scatter(name="requests", x=labels, mode="lines+markers",
                             y=[r.get("requests", {}).get("total", 0) for r in data.runs],
                             marker_color="#555555"), secondary_y=True)
    alarms = [len(r.get("alarms") or []) for r in data.runs]
    fig.add_trace(go.Scatter(name="alarms", x=[x for x, a in zip(labels, alarms, strict=True) if a],
                             y=[a for a in alarms if a], mode="markers", yaxis="y2",
                             marker={"symbol": "x", "size": 14, "color": "#d62728"},
                             hovertemplate="%{y} alarm(s)<extra>%{x}</extra>"),
                  secondary_y=True)
    fig.update_layout(barmode="group", xaxis={"type": "category", "title": "run"})
    fig.update_yaxes(title_text="articles", secondary_y=False)
    fig.update_yaxes(title_text="requests, alarms", secondary_y=True, rangemode="tozero")
    return _layout(fig, f"Run history ({len(data.runs)} runs)")


# --- the page --------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1em 2em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8em; margin: 1em 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 9em; }
.card b { display: block; font-size: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.n { text-align: right; } .muted { color: #666; font-size: 0.92em; }
"""


def _table(head: list[str], rows: list[list[Any]], table_id: str) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(
        f'<td class="n">{v}</td>' if isinstance(v, int) else f"<td>{html.escape(str(v))}</td>"
        for v in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'


def render(data: ReportData) -> str:
    """Return the whole HTML page."""
    from plotly.offline import get_plotlyjs

    config = {"displaylogo": False, "responsive": True}
    charts = {}
    for name, make in (("months", months_figure), ("coverage", coverage_figure),
                       ("layers", layers_figure), ("rejects", rejects_figure),
                       ("runs", runs_figure)):
        charts[name] = make(data).to_html(full_html=False, include_plotlyjs=False,
                                          div_id=f"chart-{name}", config=config)
    if not data.rejects:
        charts["rejects"] = '<p id="chart-rejects">No rejects in <code>rejects/</code>.</p>'

    months = data.months
    span = f"{months[0].month} to {months[-1].month}" if months else "none"
    holes = data.holes
    cards = [("articles", data.articles), ("lines (versions)", data.article_lines),
             ("months", span), ("holes", len(holes)), ("reject lines", data.reject_lines),
             ("runs", len(data.runs))]
    card_html = "".join(f'<div class="card"><b>{html.escape(str(v))}</b>{html.escape(k)}</div>'
                        for k, v in cards)
    hole_rows = [[m.month, m.archived, m.archived + sum(m.missing.values()),
                  "; ".join(f"{n} {r}" for r, n in m.missing.most_common())] for m in holes]
    section_rows = [[row.key, row.name, ", ".join(sorted(row.channels)),
                     ", ".join(sorted(row.slugs)), row.articles.get("old", 0),
                     row.articles.get("new", 0), row.total,
                     f"{min(row.months)} to {max(row.months)}" if row.months else ""]
                    for row in data.sections]
    run_rows = [[_run_label(r), r.get("stop_reason") or "",
                 *(r.get("counts", {}).get(k, 0) for k in
                   ("new", "updated", "unchanged", "rejected", "failed")),
                 r.get("requests", {}).get("total", 0),
                 "; ".join(r.get("alarms") or []) or "none"] for r in data.runs]
    title = f"Báo Nam Định archive: {html.escape(data.archive)}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<h1>{title}</h1>
<p class="muted">Generated {html.escape(data.generated_at)} by
<code>python -m crawler report</code>. Hover over a chart for its numbers.</p>
<div class="cards" id="cards">{card_html}</div>

<h2>Articles per month</h2>
<p>Each article once, in the month of its latest version's publication date. A month is a
<b>hole</b> (shaded red) when the sources promised more articles than the archive holds there:
an article is promised when a captured listing page links to it, its URL was fetched, a reject
names it, or the state counts it as archived; its URL gives its month. Months nothing was
published in (or nothing was seen of) are simply empty.</p>
{charts["months"]}
{_table(["month", "archived", "promised", "missing, by reason"], hole_rows, "holes")
 if hole_rows else '<p id="holes">No holes: every promised article is archived.</p>'}

<h2>Articles by section</h2>
<p>Each article once, by its section's key: the new CMS's slug, which the old CMS's channel
ids are mapped to where the site prints the same name for a channel and a slug (else the slug of
the channel's name). The name is the one the site prints most for it.</p>
{_table(["key", "name as printed", "old CMS channels", "new CMS slug", "old CMS", "new CMS",
         "articles", "months"], section_rows, "sections")
 if section_rows else '<p id="sections">No article names a section.</p>'}

<h2>Coverage and extraction layers</h2>
<p>From each run's report (<code>runs/*.json</code>): the share of the run's records that have
each field, and which layer gave it (site markup, metadata, heuristic, ...).</p>
{charts["coverage"]}
{charts["layers"]}

<h2>Rejects</h2>
<p>Every line of <code>rejects/</code>, grouped by the reason without its particulars.</p>
{charts["rejects"]}

<h2>Runs</h2>
{charts["runs"]}
{_table(["run", "stop reason", "new", "updated", "unchanged", "rejected", "failed", "requests",
         "alarms"], run_rows, "runs")}
</body></html>
"""


def write_report(root: str | os.PathLike[str], output: str | os.PathLike[str] | None = None
                 ) -> Path:
    """Write the report page (default: ``ARCHIVE_DIR/report.html``) atomically; return its path."""
    path = Path(output) if output else Path(root) / REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    page = render(collect(root))
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(page, "utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
