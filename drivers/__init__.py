"""Device drivers (installed as cpmlab.drivers), one module per device model."""
