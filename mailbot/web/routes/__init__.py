"""One module per resource the app shows; each exposes `router`."""
