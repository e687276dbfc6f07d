#!/usr/bin/env python3
"""Runs many HLO modules through ../shared/tools/xla_run.py in one process.

Reads a JSON list of jobs {"module", "out", "inputs"} on stdin; for each, XLA parses
and runs the module and writes out*.npy into "out", or writes the reason it failed
to "out"/error.txt. One process keeps JAX's import and start-up to once per test run.
"""
import contextlib, importlib.util, io, json, os, sys

tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tools", "xla_run.py")
spec = importlib.util.spec_from_file_location("xla_run", tool)
xla_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(xla_run)

for job in json.load(sys.stdin):
    os.makedirs(job["out"], exist_ok=True)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(captured):
            xla_run.main(job["module"], job["out"], job["inputs"])
    except SystemExit as e:
        with open(os.path.join(job["out"], "error.txt"), "w") as f:
            f.write(f"exit {e.code}: {captured.getvalue()}")
    except Exception as e:  # XLA's run-time errors
        with open(os.path.join(job["out"], "error.txt"), "w") as f:
            f.write(f"{type(e).__name__}: {e}")
