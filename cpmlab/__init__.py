"""cpmlab: conditioned pain modulation lab software."""

__version__ = "0.1.0"  # pyproject.toml reads it from here (no package-metadata lookup at every start)

__all__ = ["__version__"]
