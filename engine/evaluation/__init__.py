"""Evaluation: how a decision is reached.

``judging`` judges a batch in memory (consent first, then the rules, then
the recommendation and the decision id); ``pipeline`` runs the evaluate job
for a batch of any size, split by ``partitions`` and judged by worker
``processes``; ``replay`` evaluates a stored decision again from the store
alone; ``changes`` shows what a new rulebook version changes.
"""
