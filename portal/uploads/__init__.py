"""Files users attach as evidence (task reports, checklist evidence, hazard photos, inspection
records): size and type checked by content, stored under a random token, served only in scope."""
