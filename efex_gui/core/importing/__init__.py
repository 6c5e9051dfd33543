"""Importing: from file names or legacy BluePyEfe formats to files_metadata and targets.

Import from the submodules; this package's ``__init__`` stays empty.
"""
