"""Nafitha: the command line and the glue that starts the apps (see README.md)."""
__version__ = "0.1.0"
