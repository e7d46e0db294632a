"""The tenant tree: every administrative level, department and enterprise is a node.

Path queries, scoping (`tenants.scope`) and inheritance (`tenants.inherit`) live here and
nowhere else, so every module reads records and rules the same way.
"""
