"""The JSON API under /api/v1/: per-unit tokens, the same scope as the unit's users, rate-limited
and audited; reads of nodes, hazards, inspections, tasks and dispatch figures; hazards and
enterprise self-reports written through the same services as the pages."""
