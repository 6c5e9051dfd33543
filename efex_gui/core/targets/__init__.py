"""Targets: what to extract (protocol, amplitude, feature), their files, automatic
targets, and the checks of a target list against the recordings.

Import from the submodules; this package's ``__init__`` stays empty.
"""
