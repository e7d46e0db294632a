"""The accountability trace (倒查) over inspections, hazards and tasks, and accountability records."""
