# 2026-12-06 22:35 UTC, quiet 2-core machine (load average ~1-2: nothing else running), code at
# main 6a8b6fe; embedded PostgreSQL in LIGHTBOX_HOME. An earlier run of the same command under
# load average 14-23 gave 529 s for the first run, 2.18 s no-op and 6.42 s with 1,000 new lines.
LIGHTBOX_HOME=/tmp/wt21-home .venv/bin/python benchmarks/settlement.py --lines 1000000 --baseline-lines 10000 --new-lines 1000 > benchmarks/results/settlement.jsonl
