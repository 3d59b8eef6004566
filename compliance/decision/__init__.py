"""The decision: rule statuses composed into findings, the outcome, citations and output columns;
the earliest allowed date; the HTML card a notebook shows.
"""
