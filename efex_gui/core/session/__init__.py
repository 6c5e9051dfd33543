"""Session: the saved project (settings, files_metadata, exclusions) and the lazy
dataset
listing the GUI shows.

Import from the submodules; this package's ``__init__`` stays empty.
"""
