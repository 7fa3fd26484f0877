"""The web app for the DPO, compliance and admins (`mailbot web`).

Server-rendered pages over the same core as the CLI: every change is a function of
`mailbot.actions` (or `mailbot.staff`) called in one transaction; the routes only read
forms and render results. `app.create_app` assembles it; `routes/` holds one module per
resource; `auth` turns the session cookie into the signed-in person and checks roles
and CSRF tokens; `security` sets the headers every response carries.
"""
