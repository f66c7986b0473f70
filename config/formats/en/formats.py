"""How the product prints dates and times in English: day first, 24-hour, "Wed 11 Mar 09:00" as
every page writes them explicitly. Django's own English formats are US-style ("March 11, 2026",
"9 a.m.", "03/11/2026"): a `|date` or `|time` without a format, or a date printed as it is, would
read that way on the office pages.

Only output formats are set: the input formats (what forms accept) stay Django's, and the HTML
date, time and datetime-local inputs are given ISO values explicitly by their templates and
widgets (`Y-m-d`, dispatch/pages/booking.py LOCAL_INPUT).
"""

DATE_FORMAT = "D j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j M Y H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "D j M"
SHORT_DATETIME_FORMAT = "D j M H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
