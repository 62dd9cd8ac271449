"""cleanpipe: turn messy scraped web text into clean, traceable JSONL."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cleanpipe")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"

from cleanpipe.api import clean, normalize_names  # noqa: E402
from cleanpipe.config import Config, ConfigError, load_config  # noqa: E402
from cleanpipe.engines.pipeline import Pipeline, RunSummary  # noqa: E402
from cleanpipe.stages.dedup import NearDuplicateFilter  # noqa: E402
from cleanpipe.stages.strip import clean_dump, clean_html, strip_html, strip_text  # noqa: E402

__all__ = ["Config", "ConfigError", "NearDuplicateFilter", "Pipeline", "RunSummary", "clean", "clean_dump",
           "clean_html", "load_config", "normalize_names", "strip_html", "strip_text", "__version__"]
