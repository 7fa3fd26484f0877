"""Deployment assets and the local mail-server rig (not part of the installed package)."""
