"""Data-subject request cases: their legal deadlines, state and records."""
