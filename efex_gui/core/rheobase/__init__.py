"""Rheobase: the four strategies and ``compute_rheobase``, and the per-cell review.

Import from the submodules; this package's ``__init__`` stays empty.
"""
