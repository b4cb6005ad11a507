"""Devices: printers, scanners, payment terminal, cash drawer; each with a recording fake."""
