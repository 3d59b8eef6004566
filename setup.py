"""What pyproject.toml cannot say.

The optional C extension holding the decision log's hot loops (compliance/decision_log/_loops.c: the hash
chain, linked with OpenSSL's libcrypto, and the JSON lines). When it cannot be built (no C compiler
or no OpenSSL headers), the install goes on without it and the log writes the same bytes in Python,
more slowly.

The bundled rule files and agreement fixtures: the repository keeps ``rules/`` and ``fixtures/`` at
its top; a built package carries the same files inside the package, as ``compliance/_bundled/``
(read through ``compliance/bundled.py``). An editable install reads them in place.
"""

import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

BUNDLED = ("rules", "fixtures")


class build_py_with_bundled_data(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        bundled = Path(self.build_lib, "compliance", "_bundled")
        shutil.rmtree(bundled, ignore_errors=True)  # no file deleted from the checkout lingers in the build
        for folder in BUNDLED:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
                    target = bundled / path
                    self.mkpath(str(target.parent))
                    self.copy_file(str(path), str(target))


setup(
    cmdclass={"build_py": build_py_with_bundled_data},
    ext_modules=[
        Extension(
            "compliance.decision_log._loops",
            ["compliance/decision_log/_loops.c"],
            libraries=["crypto"],
            optional=True,
        )
    ],
)
