"""Synthetic ID-document images for the ID-check tests and benchmark."""
