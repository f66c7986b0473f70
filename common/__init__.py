"""Shared plumbing every app may import: the clock, the roles, the domain errors.

Nothing here knows about planning or pages; `dispatch`, `technicians`, `customers` and `accounts`
all use these, so they live beside the apps rather than inside one of them.
"""
