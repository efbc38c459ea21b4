"""Crash-safe journal and BIDS output."""
