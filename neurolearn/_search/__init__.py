"""Internals of :mod:`neurolearn.search`."""
