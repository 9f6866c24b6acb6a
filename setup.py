"""The compiled part of the package; everything else is declared in pyproject.toml.

exporter._rowscan speeds up the per-event path (decoding and storing). It is optional: where
no C compiler is available the package installs without it and that path runs in Python.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "exporter._rowscan",
            sources=["exporter/_rowscan.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
