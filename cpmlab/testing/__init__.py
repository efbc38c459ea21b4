"""Helpers for tests and benchmarks of cpmlab and of the labs' own driver packages."""
