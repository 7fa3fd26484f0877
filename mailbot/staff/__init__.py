"""The people who use the web app (DPO, compliance, admin): their accounts, passwords,
signed-in sessions and the throttle on failed sign-ins, all kept in the database so
that several web processes agree on them."""
