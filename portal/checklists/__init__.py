"""Responsibility lists (责任清单) inherited down the tree and filled, signed and versioned by each
unit; the principal's duty records; and the compliance findings the levels above watch."""
