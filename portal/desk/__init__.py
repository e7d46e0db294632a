"""The desk (工作台): what waits for the user today, panel by panel."""
