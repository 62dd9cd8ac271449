"""The `cleanpipe` command. Thin: parses options, calls the library, reports."""

from __future__ import annotations

import gc
import json
import logging
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cleanpipe import __version__
from cleanpipe.config import Config, ConfigError, load_config
from cleanpipe.exitcodes import (
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_NOTHING_READ,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_REJECTS,
    EXIT_USAGE,
)
from cleanpipe.log import ProgressEvents, event, setup_logging

if TYPE_CHECKING:
    from cleanpipe.engines.pipeline import Pipeline

# the pipeline (and everything it imports) is imported by the commands that run it, so that
# `cleanpipe dedup` and `--help` start without it

EPILOG_EXIT = (
    "\b\nExit codes:\n"
    f"  {EXIT_OK}  every input was processed (pages dropped for having no content are not errors)\n"
    "  2  usage or config error; nothing was written\n"
    f"  {EXIT_REJECTS}  finished, but some inputs/records could not be read or processed (see rejects.jsonl)\n"
    f"  {EXIT_NOTHING_READ}  no document could be read at all (or no input found: the output is left as it was)\n"
    f"  {EXIT_LOCKED}  another run is writing to the same output folder (see --wait)\n"
    f"  {EXIT_OUTPUT}  the output or state could not be written (disk full, read-only, no permission);\n"
    "     the previous output is left whole\n"
    f"  {EXIT_INTERRUPTED}  interrupted (Ctrl-C, SIGINT): the previous output is left whole; a rerun resumes"
)


def _config_from(ctx_options: dict[str, Any], config_file: str | None) -> Config:
    try:
        return load_config(config_file, ctx_options)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


class _Progress:
    """A progress bar (tqdm) when stderr is a terminal; otherwise a progress event every few seconds."""

    def __init__(self, enabled: bool, log_format: str):
        self.enabled = enabled
        self.tty = sys.stderr.isatty() and log_format == "text"
        self.events = ProgressEvents()
        self._bar: Any = None
        self._phase = ""

    def __call__(self, phase: str, n: int) -> None:
        if not self.enabled:
            return
        if not self.tty:
            self.events(phase, n)
            return
        if phase != self._phase:
            self.done()
            from tqdm import tqdm

            label = {"map": "read+strip", "corpus": "dedup+names"}.get(phase, phase)
            self._bar = tqdm(desc=f"cleanpipe: {label}", unit=" docs", file=sys.stderr, leave=False)
            self._phase = phase
        self._bar.update(n - self._bar.n)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _ray_pipeline(config: Config) -> Pipeline:
    from cleanpipe.engines.ray_engine import RayPipeline, ray_available

    if not ray_available():
        raise click.UsageError("--engine ray needs Ray: pip install 'cleanpipe[ray]'")
    return RayPipeline(config)


def _json_logs_asked(args: list[str]) -> bool:
    """--log-format json among the arguments, before click has parsed them (a usage error stops parsing)."""
    return any(a == "--log-format=json" or (a == "--log-format" and nxt == "json")
               for a, nxt in zip(args, [*args[1:], ""], strict=True))


class _Command(click.Group):
    """click's group, with its usage errors and Ctrl-C said as the commands say their errors: one line
    on stderr (a JSON object with --log-format json, which a scheduler's log parser reads), no traceback."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            if not _json_logs_asked(argv):
                exc.show()
                sys.exit(exc.exit_code)
            setup_logging("json")
            _fail(exc.exit_code, "usage", exc.format_message())
        except (KeyboardInterrupt, click.Abort):
            setup_logging("json" if _json_logs_asked(argv) else "text")
            _fail(EXIT_INTERRUPTED, "interrupted", "interrupted: the output folder is as it was before this run; "
                                                   "run it again to finish (what was done is resumed)")
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(cls=_Command, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cleanpipe")
def main() -> None:
    """Turn messy scraped web pages into clean, traceable JSONL.

    \b
    Typical use:
      cleanpipe run                          # raw/ -> clean/
      cleanpipe run crawl/ more.jsonl.gz --out clean/
      cat page.txt | cleanpipe strip -       # one page, cleaned text on stdout

    Run `cleanpipe COMMAND --help` for each command's options.
    """


@main.command(epilog=EPILOG_EXIT)
@click.argument("inputs", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--out", "-o", "out_dir", default="clean", show_default=True, type=click.Path(file_okay=False),
              help="Output folder for documents.jsonl, rejects.jsonl and manifest.json.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML config file (see README); options given here override it.")
@click.option("--aliases", type=click.Path(dir_okay=False),
              help="Alias file (TOML or CSV) mapping canonical names to variants.")
@click.option("--names", "names_mode", type=click.Choice(["auto", "aliases", "off"]),
              help="auto: alias file plus variants found in the corpus (default); "
                   "aliases: only the alias file; off: no name changes.")
@click.option("--dedup-threshold", type=click.FloatRange(0.0, 1.0, min_open=True),
              help="Exact Jaccard similarity at or above which a comment is a duplicate [default: 0.6].")
@click.option("--no-dedup", is_flag=True, help="Keep every comment.")
@click.option("--doc-dedup/--no-doc-dedup", default=None,
              help="Reject documents whose text is a near-copy of an earlier kept one (republished stories) "
                   "[default: off].")
@click.option("--doc-dedup-threshold", type=click.FloatRange(0.0, 1.0, min_open=True),
              help="Exact Jaccard of word 3-gram sets at or above which a document is a copy [default: 0.6].")
@click.option("--site-repeats", type=click.Choice(["url", "folder", "off"]),
              help="Drop kept lines found on many pages of one site; pages grouped by URL host "
                   "[default] or input folder, or off.")
@click.option("--pii", "pii_mode", type=click.Choice(["redact", "annotate", "off"]),
              help="E-mail addresses, phone numbers and public IP addresses in title, byline, text and "
                   "comments: replace with <EMAIL>, <PHONE>, <IP> [default], only record where they are, "
                   "or leave alone. More kinds and the phone region in the config's [pii] table.")
@click.option("--quality", "quality_mode", type=click.Choice(["off", "annotate", "gopher", "c4", "fineweb", "custom"]),
              help="Quality signals under 'quality' in each record; annotate (default) drops nothing, gopher|c4|"
                   "fineweb drop pages outside that recipe's thresholds, custom uses the [quality] table's alone.")
@click.option("--languages", metavar="CODES",
              help="Keep only pages (and comments) in these languages, e.g. 'en,de' (ISO codes).")
@click.option("--min-language-score", type=click.FloatRange(0.0, 1.0),
              help="With --languages: the lowest language score kept [default: 0.65].")
@click.option("--workers", "-j", type=click.IntRange(1),
              help="Processes for per-page work [default: the number of CPUs].")
@click.option("--doc-timeout", type=click.FloatRange(0),
              help="Seconds one page may take to strip before its worker is stopped and the page rejected; "
                   "0 for no limit [default: 120].")
@click.option("--max-bytes", type=click.IntRange(1),
              help="Reject a record or plain file larger than this (after decompression); a container "
                   "(WARC, JSON lines) may be any size.")
@click.option("--format", "input_format", type=click.Choice(["auto", "text", "html", "jsonl", "warc"]),
              help="Treat every input as this format instead of guessing [default: auto].")
@click.option("--html-mode", type=click.Choice(["trafilatura", "fast"]),
              help="HTML pages: trafilatura, or fast (lexbor renders the page, the text cleaner cleans it: "
                   "about 3x trafilatura fast's speed, as exact on news articles, less so on some older pages) "
                   "[default: trafilatura].")
@click.option("--state", "state_dir", type=click.Path(file_okay=False),
              help="State store (SQLite) of processed inputs, comments and names [default: OUT/.cleanpipe-state].")
@click.option("--force", is_flag=True, help="Forget the state: process every input again.")
@click.option("--no-state", is_flag=True, help="Neither read nor write a state store (every run from scratch).")
@click.option("--wait", is_flag=True, help="If another run holds OUT, wait for it instead of exiting.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Form of every line on stderr (progress, warnings, errors, the summary): text, or "
                   "one JSON object a line.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary line; errors only.")
@click.option("--verbose", "-v", is_flag=True, help="Also a line per input and per reject of any kind.")
@click.option("--output-format", type=click.Choice(["jsonl", "jsonl.gz", "jsonl.zst", "parquet"]),
              help="Form of documents and rejects: JSONL, gzip or zstd JSONL, or zstd Parquet [default: jsonl].")
@click.option("--shard-size", metavar="SIZE",
              help="Start a new shard (documents-00001.EXT, ...) past this size, e.g. 256MB, 1GB [default: 256MB].")
@click.option("--provenance", "provenance_level", type=click.Choice(["full", "compact", "off"]),
              help="What each record keeps of each stage's work: compact: counts, reasons and raw line spans "
                   "[default]; full: also a preview of each removed line; off: no stage log.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: a process pool on this machine. ray: Ray Data on a cluster (pip install "
                   "'cleanpipe[ray]'); writes one part per write task (documents-NNNNN.EXT), "
                   "always a full run (no state store, no --doc-timeout).")
@click.option("--ray-address", metavar="ADDR",
              help="Ray cluster to join, e.g. 'auto' or 'ray://head:10001' [default: start a private Ray on "
                   "this machine with --workers CPUs].")
@click.option("--no-report", is_flag=True, help="Do not write OUT/report.html (see `cleanpipe report`).")
@click.option("--partitions", type=click.IntRange(1),
              help="Ray engine: shards of keys in each shuffle [default: twice the cluster's CPUs, or one per "
                   "2000 input files if more].")
def run(inputs: tuple[str, ...], out_dir: str, config_file: str | None, aliases: str | None,
        names_mode: str | None, dedup_threshold: float | None, no_dedup: bool, doc_dedup: bool | None,
        doc_dedup_threshold: float | None, site_repeats: str | None, pii_mode: str | None,
        quality_mode: str | None, languages: str | None, min_language_score: float | None,
        workers: int | None, doc_timeout: float | None, max_bytes: int | None, input_format: str | None,
        html_mode: str | None, state_dir: str | None, force: bool, no_state: bool, wait: bool, log_format: str,
        quiet: bool,
        verbose: bool, output_format: str | None, shard_size: str | None, provenance_level: str | None,
        engine: str, no_report: bool,
        ray_address: str | None, partitions: int | None) -> None:
    """Clean INPUTS (files, folders, '-' for stdin; default: raw/) into JSONL.

    \b
    Reads .txt dumps, .html, .jsonl records ({"text"|"html", "url", "id"}) and
    .warc, each optionally gzipped; folders are read recursively in sorted order.
    Writes OUT/documents.jsonl (one record per page), OUT/rejects.jsonl (every
    unreadable input, empty page and dropped duplicate comment, with the reason)
    and OUT/manifest.json (config, schema version, every shard with its record
    count and sha256). With --output-format the files are .jsonl.gz, .jsonl.zst
    or .parquet; past --shard-size they are split as documents-00000.EXT, ...
    Records follow `cleanpipe schema`. Outputs are replaced atomically.

    \b
    Run it again on a growing folder: inputs already processed with the same
    config are not processed again (their records are carried over), and new
    comments are checked against all earlier ones. --force starts afresh.

    \b
    Examples:
      cleanpipe run
      cleanpipe run data/crawl-2026-11-23/ more.jsonl.gz --out clean/
      cleanpipe run raw/ --aliases aliases.toml --dedup-threshold 0.8 --workers 4
      cleanpipe run s3-mirror/crawl/ --out /shared/clean --engine ray --ray-address auto
    """
    overrides = {
        "names.aliases": aliases,
        "names.mode": names_mode,
        "dedup.threshold": dedup_threshold,
        "dedup.enabled": False if no_dedup else None,
        "doc_dedup.enabled": doc_dedup,
        "doc_dedup.threshold": doc_dedup_threshold,
        "repeats.enabled": None if site_repeats is None else site_repeats != "off",
        "repeats.site": site_repeats if site_repeats in ("url", "folder") else None,
        "pii.mode": pii_mode,
        "workers": workers,
        "doc_timeout": doc_timeout,
        "read.max_bytes": max_bytes,
        "read.input_format": input_format,
        "strip.html_mode": html_mode,
        "output.format": output_format,
        "output.shard_size": shard_size,
        "output.provenance": provenance_level,
        "quality.mode": quality_mode,
        "quality.languages": [c.strip() for c in languages.split(",") if c.strip()] if languages else None,
        "quality.min_language_score": min_language_score,
    }
    config = _config_from(overrides, config_file)
    paths = list(inputs) or ["raw"]
    missing = [p for p in paths if p != "-" and not Path(p).exists()]
    if missing and len(missing) == len(paths):
        raise click.UsageError(f"no such input: {', '.join(missing)}")
    if engine == "local" and (ray_address or partitions):
        raise click.UsageError("--ray-address and --partitions need --engine ray")
    if engine == "ray" and shard_size:
        raise click.UsageError("--engine ray writes one part per write task: no --shard-size")
    if engine == "ray" and (state_dir or force or "-" in paths):
        raise click.UsageError("--engine ray runs from scratch on files: no --state, --force or '-'")
    from cleanpipe.engines.pipeline import Pipeline, RunSummary
    from cleanpipe.io.read import NoInputs
    from cleanpipe.io.write import OutputError, OutputLocked
    from cleanpipe.state import StateError

    try:
        pipeline = Pipeline(config) if engine == "local" else _ray_pipeline(config)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    setup_logging(log_format, verbose=verbose, quiet=quiet)
    progress = _Progress(enabled=not quiet, log_format=log_format)
    try:
        if engine == "local":
            summary: RunSummary = pipeline.run(paths, out_dir, progress=progress, wait=wait, state_dir=state_dir,
                                               use_state=not no_state, force=force)
        else:
            summary = pipeline.run(paths, out_dir, progress=progress, wait=wait, address=ray_address,
                                   partitions=partitions)
    except NoInputs as exc:
        _fail(EXIT_NOTHING_READ, "no-input", str(exc))
    except OutputLocked as exc:
        _fail(EXIT_LOCKED, "locked", str(exc))
    except StateError as exc:
        _fail(EXIT_USAGE, "state", str(exc))
    except OutputError as exc:
        _fail(EXIT_OUTPUT, "output", str(exc))
    except (OSError, sqlite3.OperationalError) as exc:
        # disk full, read-only folder, permissions: the atomic writes left the previous output whole
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        _fail(EXIT_OUTPUT, "output", f"cannot write the output{where}: {getattr(exc, 'strerror', None) or exc}; "
                                     "the previous output is unchanged")
    progress.done()
    if not no_report and summary.documents + sum(summary.rejects.values()):
        # the report is read back from the output: the run's names word lists are not needed any more,
        # and their memory holds the report (the report alone otherwise raised a large run's peak)
        from cleanpipe.stages.names import release_word_lists

        del pipeline
        release_word_lists()
        gc.collect()
        _write_run_report(out_dir)
    event("summary", summary.line(), **summary.to_dict())
    sys.exit(summary.exit_code)


def _write_run_report(out_dir: str) -> None:
    """OUT/report.html after a run; a report that cannot be built never fails the run it describes."""
    from cleanpipe.report import write_report

    try:
        write_report(out_dir)
    except Exception as exc:  # noqa: BLE001 - the run's outputs are written; only the page is missing
        event("report", f"cleanpipe: the run report could not be written: {exc}", logging.WARNING,
              error=type(exc).__name__)


def _fail(code: int, error: str, message: str) -> None:
    """One clear line on stderr (a JSON object with --log-format json), then exit with `code`."""
    event("error", f"cleanpipe: {message}", logging.ERROR, error=error, exit_code=code)
    sys.exit(code)


@main.command()
@click.option("--kind", type=click.Choice(["all", "document", "reject"]), default="all", show_default=True,
              help="The whole schema file, or a standalone schema of one record kind.")
def schema(kind: str) -> None:
    """Print the JSON Schema of the output records (document and reject).

    \b
    The same file ships in the package (cleanpipe/io/schemas/records.schema.json);
    its version is in every record (provenance.schema_version) and the manifest.

    \b
    Examples:
      cleanpipe schema > records.schema.json
      cleanpipe schema --kind document
    """
    from cleanpipe.io.schema import json_schema, record_schema

    click.echo(json.dumps(json_schema() if kind == "all" else record_schema(kind), indent=2))


@main.command()
@click.argument("source", required=False, type=click.Path(allow_dash=True))
@click.option("--in", "in_dir", type=click.Path(exists=True, file_okay=False),
              help="Clean every file in this folder (non-recursive) ...")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="... into files of the same name here.")
@click.option("--format", "fmt", type=click.Choice(["auto", "text", "html"]), default="auto", show_default=True,
              help="Cleaner to use; auto picks html for HTML-looking input.")
@click.option("--html-mode", type=click.Choice(["trafilatura", "fast"]), default="trafilatura", show_default=True,
              help="How HTML is cleaned (see `cleanpipe run --help`).")
def strip(source: str | None, in_dir: str | None, out_dir: str | None, fmt: str, html_mode: str) -> None:
    """Remove site chrome from one page (SOURCE, '-' for stdin) and print the article text.

    A page may be gzip- or zstd-compressed (page.html.gz). JSONL and WARC files hold many
    pages: they are refused with a pointer to `cleanpipe run`, which writes a record per page.

    \b
    Examples:
      cat page.txt | cleanpipe strip -
      cleanpipe strip page.html --format html
      cleanpipe strip page.html --html-mode fast
      cleanpipe strip --in dumps/ --out cleaned/
    """
    import io

    from cleanpipe.config import StripConfig
    from cleanpipe.io.read import HEAD_BYTES, InputError, decode_bytes, open_decompressed, read_up_to, sniff_format
    from cleanpipe.stages.strip import strip_html, strip_text

    html_config = StripConfig(html_mode=html_mode)

    def clean(data: bytes, name: str) -> str:
        try:  # page.html.gz, page.txt.zst: by their magic bytes, whatever the name
            stream = open_decompressed(io.BytesIO(data))
            head = read_up_to(stream, HEAD_BYTES)
            found = sniff_format(name, head)
            if fmt == "auto" and found in ("jsonl", "warc"):  # printed, it was one page of raw records
                raise InputError("container", f"{found.upper()} holds many pages, not one: clean it with "
                                              f"`cleanpipe run {name} --out DIR` (a record per page)")
            data = head + stream.read()
        except (OSError, EOFError) as exc:
            raise InputError("corrupt", f"cannot decompress: {exc}") from exc
        text, _ = decode_bytes(data)
        kind = fmt if fmt != "auto" else ("html" if found == "html" else "text")
        return strip_html(text, html_config) if kind == "html" else strip_text(text)

    if in_dir:
        if not out_dir:
            raise click.UsageError("--in needs --out")
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        failed = 0
        for path in sorted(Path(in_dir).iterdir()):
            if not path.is_file():
                continue
            try:
                cleaned = clean(path.read_bytes(), path.name)
            except InputError as exc:
                click.echo(f"cleanpipe strip: {path}: {exc.detail}", err=True)
                failed += 1
                continue
            (Path(out_dir) / path.name).write_text(cleaned + "\n", encoding="utf-8")
        sys.exit(EXIT_REJECTS if failed else EXIT_OK)
    if not source:
        raise click.UsageError("give a SOURCE file, '-' for stdin, or --in DIR --out DIR")
    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    try:
        click.echo(clean(data, source))
    except InputError as exc:
        click.echo(f"cleanpipe strip: {source}: {exc.detail}", err=True)
        sys.exit(EXIT_NOTHING_READ)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--field", "field_name", default="text", show_default=True,
              help="Field holding the text to compare; dots walk into objects (comment.text).")
@click.option("--id-field", default="id", show_default=True,
              help="Field naming a record in duplicate_of; records without it are named PATH:LINE.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="Kept records here [default: stdout].")
@click.option("--rejects", type=click.Path(dir_okay=False),
              help="Dropped duplicates and unreadable lines here [default: beside OUT, its .jsonl "
                   "ending made .rejects.jsonl (unique.jsonl: unique.rejects.jsonl), or rejects.jsonl when "
                   "writing to stdout].")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True),
              help="Exact Jaccard similarity at or above which a record is a duplicate [default: 0.6].")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML config; its [dedup] table is used.")
@click.option("--quiet", "-q", is_flag=True, help="No summary line.")
def dedup(inputs: tuple[str, ...], field_name: str, id_field: str, out: str | None, rejects: str | None,
          threshold: float | None, config_file: str | None, quiet: bool) -> None:
    """Drop near-duplicate records from JSONL files, keeping the first of each group.

    \b
    Kept records gain "duplicates": N (the copies they absorbed). Each dropped
    record goes to the rejects file with duplicate_of, similarity (exact
    Jaccard of shingle sets) and the kept record's text.

    \b
    Examples:
      cleanpipe dedup comments.jsonl --field text --out unique.jsonl
      cleanpipe dedup a.jsonl b.jsonl.gz --field comment.body --threshold 0.8 > unique.jsonl
    """
    from cleanpipe.dedup_jsonl import dedup_jsonl

    config = _config_from({"dedup.threshold": threshold}, config_file)
    out_path = Path(out) if out else None
    rejects_path = Path(rejects) if rejects else (
        out_path.with_name(out_path.name.removesuffix(".jsonl") + ".rejects.jsonl") if out_path
        else Path("rejects.jsonl"))
    summary = dedup_jsonl(list(inputs), field_name, out_path, rejects_path, config.dedup,
                          id_field=id_field or None, stdout=sys.stdout)
    if not quiet:
        click.echo(summary.line(), err=True)
    sys.exit(EXIT_REJECTS if summary.bad_lines else EXIT_OK)


@main.group()
def names() -> None:
    """Review name normalization before applying it.

    \b
    Examples:
      cleanpipe names suggest raw/ > aliases.toml     # then edit the file
      cleanpipe run raw/ --names aliases --aliases aliases.toml
    """


@names.command("suggest")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML config file.")
@click.option("--workers", "-j", type=click.IntRange(1),
              help="Processes for per-page work [default: the number of CPUs].")
def names_suggest(inputs: tuple[str, ...], config_file: str | None, workers: int | None) -> None:
    """Print the name merges cleanpipe would make on INPUTS, as an alias file to edit.

    \b
    Each entry shows the canonical form, its count, every variant with its count,
    the rule that found it and an example context. Delete what is wrong, then
    apply the reviewed file instead of the automatic merges.

    \b
    Examples:
      cleanpipe names suggest raw/ > aliases.toml
      cleanpipe run raw/ --names aliases --aliases aliases.toml
    """
    from cleanpipe.stages.names import find_variants, render_alias_file

    config = _config_from({"workers": workers}, config_file)
    from cleanpipe.engines.pipeline import Pipeline

    stats, docs = Pipeline(config).name_stats(list(inputs))
    refused: list = []
    merges = find_variants(stats, config.names, refused)
    header = (f"cleanpipe {__version__} names suggest: {len(merges)} variants of "
              f"{len({m.canonical for m in merges})} names in {docs} documents")
    click.echo(render_alias_file(merges, stats, header, refused), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()


@main.command("report")
@click.argument("out_dir", metavar="OUT", type=click.Path(exists=True, file_okay=False))
@click.option("--to", "to", type=click.Path(dir_okay=False), help="Write the page here [default: OUT/report.html].")
@click.option("--max-docs", type=click.IntRange(0), default=500, show_default=True,
              help="Documents whose before/after view is embedded (the rest are counted in the charts only).")
@click.option("--doc", "docs", multiple=True, metavar="ID|URL|PATH",
              help="Embed this document's before/after view whatever the sample (repeatable).")
def report_command(out_dir: str, to: str | None, max_docs: int, docs: tuple[str, ...]) -> None:
    """Write one self-contained HTML page about the run in OUT: what each stage removed, comments,
    name merges, rejects, and each document before and after. Opens from disk, fetches nothing.

    \b
    Examples:
      cleanpipe report clean/                      # clean/report.html
      cleanpipe report clean/ --to /tmp/run.html --doc https://example.org/a
    """
    from cleanpipe.report import write_report

    path = write_report(out_dir, to=to, max_docs=max_docs, include=docs)
    click.echo(f"cleanpipe: report written to {path}", err=True)


@main.command("config")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="A TOML config file to check and merge over the defaults.")
@click.option("--show", is_flag=True, help="Print the effective config (defaults plus the file) as JSON.")
def config_command(config_file: str | None, show: bool) -> None:
    """Check a config file: wrong types and unknown keys are an error naming the key (exit 2).

    \b
    Examples:
      cleanpipe config --config nightly.toml          # exit 0 when the file is usable
      cleanpipe config --show                         # every option with its default
      cleanpipe config --config nightly.toml --show   # what a run with this file uses
    """
    config = _config_from({}, config_file)
    if show:
        click.echo(json.dumps(config.to_dict(), indent=2, sort_keys=True))
    else:
        click.echo(f"cleanpipe: {config_file or 'the defaults'}: OK", err=True)
