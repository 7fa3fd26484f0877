"""The servers the tests run against: Dovecot, the SMTP capture sink and PostgreSQL, all
throwaway and local (not part of the installed package). `python -m tests.servers.mailservers
up DIR` also gives a developer Dovecot and the sink."""
