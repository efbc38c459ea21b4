"""cpmlab.protocol."""
