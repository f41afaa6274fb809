"""Benchmarks of adjudicate: a seeded batch generator, a plain durable-rules
baseline and a runner that measures both (``python -m benchmarks``)."""
