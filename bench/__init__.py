"""Throughput, latency and memory bench for the intake bot; run it with ``python -m bench``.

Not part of the tests: it measures, prints a table and checks targets, and never asserts.
"""

import os

# As in tests/conftest.py: make python-telegram-bot return durations as timedeltas, which
# keeps its deprecation warnings about int durations quiet.
os.environ.setdefault("PTB_TIMEDELTA", "true")
