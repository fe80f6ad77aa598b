# 2026-12-06 23:13-23:18 UTC, a quiet 2-core machine (the crawl benchmark in its big-host tail,
# politeness-bound, ~0.1 core); code at main 15e2b4d (the staging of the two warehouse views as tables).
# Large second build from dbt's run_results.json: elapsed 18.0 s, models 24.1 thread-s (of which
# stg_aiscan__submission_statuses 9.4 and stg_licensing__photo_exclusivity 8.8), tests 10.3
# thread-s. An earlier run the same evening, before the two staging tables: first build 111.4 s,
# second 77.3 s (0.69x; 7 tests over the two warehouse views 103 thread-s, scan_latency_daily 15.9 s).
LIGHTBOX_HOME=/tmp/wt21-home .venv/bin/python benchmarks/marts.py --scales medium,large --work /tmp/wt21/bm > benchmarks/results/marts.jsonl
