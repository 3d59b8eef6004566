"""The input contract: what a sale event may say, and how a table of notices is read.

``event``: one event parsed and validated into a typed ``SaleEvent`` (or ``InputError`` naming the
field and value); ``table``: a notices table parsed column by column through the same parser;
``synthetic``: reproducible notices for trying the batch review at scale.
"""
