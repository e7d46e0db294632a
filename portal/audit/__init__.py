"""Append-only audit events, chained per tenant by SHA-256 so any later change is detectable."""
