"""NWB files (HDF5): the reader (:mod:`.reader`), its layouts and the HDF5 helpers they
share.

Import from the submodules; this package's ``__init__`` stays empty.
"""
