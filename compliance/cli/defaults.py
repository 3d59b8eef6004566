"""The values ``sweep``, ``capacity`` and ``plan`` assume for the event fields no option sets."""

SWEEP_DEFAULTS = {
    "security": "shares",
    "quantity": "1000",
    "affiliate": "false",
    "opinion_of_counsel": "true",
    "company_advised": "true",
}

# capacity and plan: the sweep's defaults, less the quantity they find, and a manner of sale
# Rule 144(f) permits.
HOLDING_DEFAULTS = {
    **{k: v for k, v in SWEEP_DEFAULTS.items() if k not in ("security", "quantity")},
    "manner_of_sale": "brokers_transaction",
}
