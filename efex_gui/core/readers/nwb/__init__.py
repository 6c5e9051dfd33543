"""NWB files (HDF5): the reader (:mod:`.reader`), its layouts and their HDF5 helpers.

Import from the submodules; this package's ``__init__`` stays empty.
"""
