"""Runs the seed proof of concept's Lambda handler as one warm container: loads lambda_function.py from the
path given (run as it is, never copied), then answers one JSON event per stdin line with one JSON line on
stdout: {"ms": handler time, "status": its statusCode}. What the seed prints goes to stderr."""
import contextlib
import importlib.util
import json
import sys
import time

spec = importlib.util.spec_from_file_location("seed_lambda_function", sys.argv[1])
seed = importlib.util.module_from_spec(spec)
with contextlib.redirect_stdout(sys.stderr):
    spec.loader.exec_module(seed)

print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    event = json.loads(line)
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        result = seed.lambda_handler(event, None)
    print(json.dumps({"ms": (time.perf_counter() - started) * 1000, "status": result.get("statusCode")}), flush=True)
