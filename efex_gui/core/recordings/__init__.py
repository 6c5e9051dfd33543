"""Recordings: sweeps (``Recording``, the eCodes), cells, spike counts and checks.

One sweep's traces and stimulus (``Recording`` and the eCodes), a cell's recordings
(``Cell``), spike counts and the checks that warn about suspect numbers.

Import from the submodules; this package's ``__init__`` stays empty.
"""
