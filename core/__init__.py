"""Nafitha's domain and its durable local store.

`core` imports no Kivy, no HTTP client and no device library: it runs on a machine with no
display, no printer and no network (tests/test_import_rules.py enforces it).
"""
