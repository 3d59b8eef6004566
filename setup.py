"""The one thing pyproject.toml cannot say: the optional C extension holding the decision log's hot
loops (compliance/_decision_log.c: the hash chain, linked with OpenSSL's libcrypto, and the JSON
lines). When it cannot be built (no C compiler or no OpenSSL headers), the install goes on without
it and the log writes the same bytes in Python, more slowly."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("compliance._decision_log", ["compliance/_decision_log.c"], libraries=["crypto"],
                             optional=True)])
