"""The wire: reading, parsing, composing and sending mail."""
