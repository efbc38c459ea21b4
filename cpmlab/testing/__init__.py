"""Test support for driver authors and cpmlab's own tests: fakes, conformance suites, display helpers."""
