"""Accounts: who may sign in, as whom, and with which role.

`users` keeps the accounts; `security` turns a bearer token into a user; `limits` slows
down whoever guesses passwords or writes without an account; `auth` and
`admin` are the routes. The package re-exports the account store's names, which the
composition roots and the tests use.
"""

from api.accounts.users import (
    MAX_PASSWORD_BYTES,
    MIN_PASSWORD_CHARACTERS,
    EmailTaken,
    PasswordHasher,
    User,
    UserStore,
    password_problem,
)

__all__ = [
    "MAX_PASSWORD_BYTES",
    "MIN_PASSWORD_CHARACTERS",
    "EmailTaken",
    "PasswordHasher",
    "User",
    "UserStore",
    "password_problem",
]
