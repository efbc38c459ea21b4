"""cpmlab plugin for the IceBath 100 cold-pressor bath (a worked example of a lab driver package)."""
