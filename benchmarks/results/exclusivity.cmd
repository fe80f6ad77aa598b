# 2026-11-30, 2-core machine, nothing else running; re-run after the matching engine's index rework (issue 3)
.venv/bin/python benchmarks/exclusivity.py --listings 1500 --catalog 100000 --real 200 --distinct 600 --baseline-sample 100 > benchmarks/results/exclusivity.jsonl
