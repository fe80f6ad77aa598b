.venv/bin/python benchmarks/exclusivity.py --listings 1500 --catalog 100000 --real 200 --distinct 600 --baseline-sample 100 > benchmarks/results/exclusivity.jsonl
