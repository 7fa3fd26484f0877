"""Handling: what the bot does about a mail, decided first and recorded after.

`decide` and `disposition` are pure: from values (the parsed mail, the case as it
stands, the ID check's findings, the settings) they return a plan, a list of steps.
`record` is the one place that applies a plan to the database.
"""
