.venv/bin/python benchmarks/matching.py --distractors 10000 --reps 5 --scale-index 10000000 --scale-queries 10000 --brute-queries 100 > benchmarks/results/matching.jsonl
