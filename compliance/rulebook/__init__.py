"""The rulebook and its three compilations, side by side.

``loader``: rules/*.yaml read, type-checked against rules/facts.yaml and expanded per version of
Rule 144; ``parameters``: rules/parameters/rule_144.yaml, values keyed by effective date;
``durable``: the rulebook compiled to one durable_rules ruleset (the pre-trade check);
``vectorized``: the same conditions compiled to numpy expressions over columns (the batch review)
and to scalar Python functions (the earliest-date search of one event).
"""
