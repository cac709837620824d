"""Retrieval metrics shared by the trainer's validation and the benchmark harnesses."""
