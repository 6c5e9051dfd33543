"""Extraction: from files_metadata and targets to features, protocols and currents.

The BluePyEfe pipeline, its per-cell tasks, grouping, the incremental runner and its
cache.

Import from the submodules; this package's ``__init__`` stays empty.
"""
