"""The deal: an agreement directory (its facts, clauses and conventions), the schema it is
validated against, and the calendars and period arithmetic its dates are counted with.
"""
