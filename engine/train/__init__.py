"""Contrastive training: data sources, the loop, the losses (`loss.py`), checkpoints.

Run it with `engine train ...` or, for several processes, `torchrun -m engine.train ...`.
"""
