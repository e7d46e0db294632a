"""Dispatch tables (调度表): definitions inherited down the tree, figures computed from the records
of a subtree, manual figures typed once, submissions approved up the chain, official exports."""
