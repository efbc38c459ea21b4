"""Lowest layer: clock, events, labels, safety limits. Imports nothing else from cpmlab."""
