"""Internals of :mod:`neurolearn.scan`: grid, store, engine, Slurm config, plots."""
