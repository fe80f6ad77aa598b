"""The quality report: every suite of every stage, then the whole Data Docs site."""
from __future__ import annotations

from pathlib import Path


def run_report(run_id: str, as_of) -> dict:
    """Run every suite (nothing raises: the report records and shows); rebuild Data Docs."""
    from lightbox.quality.gates import _as_datetime
    from lightbox.quality.runner import docs_index, run_suites
    from lightbox.quality.suites import SUITES

    results = run_suites(list(SUITES.values()), run_id, _as_datetime(as_of), build_docs="results")
    failed = [r for r in results if not r.success]
    from lightbox import db

    with db.transaction() as conn:
        overview = write_overview(conn)
    for r in results:
        state = "ok" if r.success else f"{r.severity.upper()} FAILED"
        print(f"lightbox-summary: quality {state} {r.summary}")
    return {
        "suites": len(results),
        "failed": len(failed),
        "critical_failed": sum(r.severity == "critical" for r in failed),
        "docs": str(docs_index()),
        "overview": str(overview),
    }


def write_overview(conn) -> Path:
    """``LIGHTBOX_HOME/docs/index.html``: the auditors' front page. Plain HTML with inline
    style and no scripts (GX's own index builds its lists with JavaScript from CDNs, which a
    closed network does not load): the latest run of every suite with its message, the
    history of runs, and links to each run's GX page."""
    import html

    from lightbox.quality.runner import docs_dir

    root = docs_dir()
    root.mkdir(parents=True, exist_ok=True)
    prefix = f"file://{root}/"
    with conn.cursor() as cur:
        cur.execute(
            """select run_at, run_id, suite, coalesce(severity, ''), success, evaluated, failed,
                      coalesce(docs_uri, ''), coalesce(summary, '')
               from quality.results order by run_at desc, suite limit 500""")
        rows = cur.fetchall()
    latest: dict[str, tuple] = {}
    for row in rows:
        latest.setdefault(row[2], row)

    def link(uri: str, text: str) -> str:
        href = uri[len(prefix):] if uri.startswith(prefix) else uri
        return f'<a href="{html.escape(href)}">{html.escape(text)}</a>' if href else html.escape(text)

    def line(row, with_summary: bool) -> str:
        run_at, run_id, suite, severity, success, evaluated, failed, uri, summary = row
        status = "passed" if success else f"FAILED ({severity or 'critical'})"
        cls = "ok" if success else ("warn" if severity == "warning" else "bad")
        cells = [run_at.strftime("%Y-%m-%d %H:%M UTC"), link(uri, suite), f'<span class="{cls}">{status}</span>',
                 str(evaluated), str(failed), html.escape(run_id)]
        if with_summary:
            cells.append(html.escape(summary))
        return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"

    head = "<tr><th>run at</th><th>suite</th><th>status</th><th>evaluated</th><th>failed</th><th>run</th>"
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Lightbox data quality</title>
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}th{{background:#f3f3f3}}
.ok{{color:#1a7f37}}.warn{{color:#9a6700;font-weight:600}}.bad{{color:#cf222e;font-weight:700}}</style></head><body>
<h1>Lightbox data quality</h1>
<p>Great Expectations suites of every pipeline stage (<code>quality.results</code>). Each suite links to its
Data Docs page; <a href="data_docs/index.html">the full Data Docs site</a>.</p>
<h2>Latest run of each suite</h2><table>{head}<th>what failed</th></tr>
{''.join(line(r, True) for r in sorted(latest.values(), key=lambda r: (r[4], r[2])))}</table>
<h2>History</h2><table>{head}</tr>{''.join(line(r, False) for r in rows)}</table>
</body></html>"""
    path = Path(root) / "index.html"
    path.write_text(page)
    return path
