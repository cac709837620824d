"""Shared by the training tests."""

# The recipe's other choices, set back to the plain baseline these tests were written for.
PLAIN = (
    "--optimizer",
    "adamw",
    "--lr",
    "1e-3",
    "--pool",
    "map",
    "--no-text-grid",
    "--photo-mask",
    "0",
    "--no-photo-flip",
    "--set",
    "caption_langs=null",
    "--set",
    "time_budget=null",
)
