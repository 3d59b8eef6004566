"""The one thing pyproject.toml cannot say: the optional C extension that computes the decision log's
hash chain (compliance/_chain.c, linked with OpenSSL's libcrypto). When it cannot be built (no C
compiler or no OpenSSL headers), the install goes on without it and the log computes the same
hashes in Python, more slowly."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("compliance._chain", ["compliance/_chain.c"], libraries=["crypto"],
                             optional=True)])
