"""Shared platform code of the PSA customer-section services: configuration, auth, HTTP
problem details, persistence wiring and the `psa` command. Services import this package and
`contracts`, never each other."""
