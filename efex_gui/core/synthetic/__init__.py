"""Synthetic data: a simulated spiking neuron and the demo dataset written from it.

Import from the submodules; this package's ``__init__`` stays empty.
"""
