"""Multi-visit studies: the study file, counterbalancing, and each participant's state read from the data folder."""
