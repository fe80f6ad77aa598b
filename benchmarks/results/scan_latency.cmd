.venv/bin/python benchmarks/scan_latency.py --files 100 --window 600 --raw-out /tmp/scan_latency_raw.json > benchmarks/results/scan_latency.jsonl
# 2026-12-06 22:11-22:34 UTC, run from a clean clone of main at 83aa089; a quiet 2-core machine
# (load average 0.45 before, median 2.29 and max 4.32 during: the two stacks themselves and one
# niced test session). Both phases ran at once, each on its own `lightbox up` (ports
# 19000-19099, own embedded PostgreSQL): "event" = this code, "baseline" = commit 00c8a20
# (git archive) with today's schedules; the same 100 files at the same random moments into
# both; nothing shortened. The run ended early because every file of both phases was scored.
# An earlier run (commit eab1ef5, load average 20-28 from six other engineers' suites) gave
# event p50 86.2 s / p95 213.1 s against baseline p50 477 s / p95 720 s.
