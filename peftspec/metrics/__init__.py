"""Metrics: the registry (every metric once, torch-free), scores and decisions, the final
evaluation, and the Trainer's metric computer."""
