"""Targets: what to extract, their files, automatic targets and their checks.

A target is a protocol, an amplitude and a feature; a target list is checked against
the recordings.

Import from the submodules; this package's ``__init__`` stays empty.
"""
