"""HTML views for the manager's dashboard: thin; selectors read, services write."""
