"""Replies to requesters: rendering from templates/<lang>/, drafts and the outbox."""
