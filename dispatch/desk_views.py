"""HTML views for the manager's desk: thin; selectors read, services write."""
