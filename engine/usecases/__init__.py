"""Use cases: every action a person or a job takes, as one function."""
