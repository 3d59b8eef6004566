"""The one thing pyproject.toml cannot say: the optional C extension holding the decision log's hot
loops (compliance/decision_log/_loops.c: the hash chain, linked with OpenSSL's libcrypto, and the
JSON lines). When it cannot be built (no C compiler or no OpenSSL headers), the install goes on
without it and the log writes the same bytes in Python, more slowly."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("compliance.decision_log._loops", ["compliance/decision_log/_loops.c"],
                             libraries=["crypto"], optional=True)])
