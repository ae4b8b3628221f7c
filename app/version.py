"""The installed release of distgate, as `distgate --version` and `distgate_build_info` say it."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("distgate")
except PackageNotFoundError:  # run from a source tree that was never installed
    VERSION = "unknown"
