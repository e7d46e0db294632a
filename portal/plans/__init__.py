"""Campaigns and the plans each level issues for them (inherited down the tree, tightened, never
loosened), and the tasks a level assigns to the units below it, tracked, reminded and reviewed."""
