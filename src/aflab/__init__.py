"""aflab: alignment-faking and model-organism research on language models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aflab")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
