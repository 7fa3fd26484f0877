"""Stored mail: its tables, its sealed bytes, and ingest into them."""
