"""Application layer: assembles protocol, devices, participant, engine and storage into a session."""
