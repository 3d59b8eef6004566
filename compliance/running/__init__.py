"""Running the engine: the pre-trade ``check``, the batch ``review`` (in sale-date order, with what
earlier allowed sales do to later notices), the ``sweep`` over a date range, and the worker threads
a batch's independent parts run in.
"""
