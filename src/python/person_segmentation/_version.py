"""The package version: the one place it is written.

``pyproject.toml`` reads it (scikit-build-core's regex provider), CMake reads it
(``CMakeLists.txt``) and passes it to the C++ core as ``PERSON_SEGMENTATION_VERSION``.
"""

__version__ = "0.1.0"
