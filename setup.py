"""Packaging shim: the metadata lives in pyproject.toml (DESIGN.md asks for setup.py)."""
from setuptools import setup

setup()
