"""cleanpipe: turn messy scraped web text into clean, traceable JSONL."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cleanpipe")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"

from .config import Config, load_config  # noqa: E402
from .pipeline import Pipeline  # noqa: E402
from .strip import strip_html, strip_text  # noqa: E402

__all__ = ["Config", "Pipeline", "load_config", "strip_html", "strip_text", "__version__"]
