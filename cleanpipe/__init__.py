"""cleanpipe: turn messy scraped web text into clean, traceable JSONL."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cleanpipe")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cleanpipe.api import clean, normalize_names
    from cleanpipe.config import Config, ConfigError, load_config
    from cleanpipe.engines.pipeline import Pipeline, RunSummary
    from cleanpipe.stages.dedup import NearDuplicateFilter
    from cleanpipe.stages.strip import clean_dump, clean_html, strip_html, strip_text

__all__ = ["Config", "ConfigError", "NearDuplicateFilter", "Pipeline", "RunSummary", "clean", "clean_dump",
           "clean_html", "load_config", "normalize_names", "strip_html", "strip_text", "__version__"]

# imported on first use: `import cleanpipe` (and so every `cleanpipe` command) would otherwise load the
# whole pipeline, half a second before `cleanpipe dedup` reads a line
_LAZY = {"clean": "cleanpipe.api", "normalize_names": "cleanpipe.api", "Config": "cleanpipe.config",
         "ConfigError": "cleanpipe.config", "load_config": "cleanpipe.config",
         "Pipeline": "cleanpipe.engines.pipeline", "RunSummary": "cleanpipe.engines.pipeline",
         "NearDuplicateFilter": "cleanpipe.stages.dedup", "clean_dump": "cleanpipe.stages.strip",
         "clean_html": "cleanpipe.stages.strip", "strip_html": "cleanpipe.stages.strip",
         "strip_text": "cleanpipe.stages.strip"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cleanpipe' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
