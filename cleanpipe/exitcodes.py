"""Exit codes of the `cleanpipe` command (a module of their own: the CLI imports them without the pipeline)."""

EXIT_OK = 0
EXIT_REJECTS = 3  # finished; some inputs, records or documents could not be processed
EXIT_NOTHING_READ = 4  # no document could be read at all
EXIT_USAGE = 2  # bad options or config (click's own code for usage errors)
EXIT_LOCKED = 5  # another run holds the output folder
EXIT_OUTPUT = 6  # the output or state could not be written (disk full, read-only, permissions)
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C or SIGINT (128 + 2, as shells report it)
