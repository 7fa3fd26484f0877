"""Decisions about one inbound mail: screening, threading, identity."""
