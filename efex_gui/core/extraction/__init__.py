"""Extraction: from files_metadata and targets to the features, protocols and currents
dicts (the BluePyEfe pipeline, its per-cell tasks, grouping, the incremental runner and
its cache).

Import from the submodules; this package's ``__init__`` stays empty.
"""
