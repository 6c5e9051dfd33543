"""Export: the output files (BluePyEfe's three JSON files, pickles, provenance sidecar).

Import from the submodules; this package's ``__init__`` stays empty.
"""
