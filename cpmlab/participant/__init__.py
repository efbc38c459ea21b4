"""What the engine needs from the participant: screens, ratings and responses."""
