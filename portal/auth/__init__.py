"""Accounts: users, passwords, login with lockout, idle sessions, the active membership."""
