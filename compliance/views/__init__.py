"""Views for people: matplotlib plots of a deal's resale windows and of a sweep, and the clause
coverage report (which clauses the rules encode).
"""
