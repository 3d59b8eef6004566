"""Facts: everything the rules judge, derived in Python from the events, the agreement and Rule
144's parameters (dates, business days, aggregates). Python derives; the rules judge.
"""
