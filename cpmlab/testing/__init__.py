"""Test support for driver authors and cpmlab's own tests: fake transports, fake devices, conformance suites."""
