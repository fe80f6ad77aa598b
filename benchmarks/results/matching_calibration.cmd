# 2026-11-30, 2-core machine, nothing else running: the calibration seeds the thresholds were chosen on (scale test small: it is in matching.jsonl)
.venv/bin/python benchmarks/matching.py --calibrate --distractors 10000 --reps 5 --scale-index 1000000 --scale-queries 1000 --brute-queries 100 > benchmarks/results/matching_calibration.jsonl
