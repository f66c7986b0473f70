"""The planning core: where a call fits, and what that costs everyone else.

Pure on purpose: no Django, no clock, no settings. Plain data in (routes of stops, eligibility
facts, promises, rules), plain data out (legs, insertions, ripples, options). The product's
moves, candidates, rescue, booking windows, capacity and recompute, and the simulated day, all
ask these functions, so they cannot disagree.

- ``eta``: one technician's queue timed (the contract: ``Stop``, ``Leg``, ``plan_route``)
- ``travel``: travel-time providers
- ``rules``: the tunable numbers (risk margin, promise tolerance, ripple shift)
- ``routes``: a technician's queue with its start rule and the place new work may go
- ``promises``: when a promised ETA counts as broken
- ``ripple``: what a change costs the calls already planned
- ``insertion``: one call tried at every place of one queue, priced incrementally
- ``eligibility``: who can take a call (skills, working hours, on call), in words
- ``choice``: the best place per technician, and the one ranking of candidates
- ``rescue``: earlier / reassign / swap for a call at risk
- ``booking``: which arrival windows fit a queue
- ``solver``: the one small interface to a routing solver; ``pyvrp_solver``: the default one
- ``day_plan``: plan the day (the solver proposes, the core judges); ``plan_figures``: the
  figures and changes a plan is judged and told by
"""
