"""A parser process started as a rebuild begins, so that loading the parser overlaps the
listing of the tree.

A rebuild after a one-file edit spends about 0.1 s loading PyYAML, pydantic and the seed
models before it can validate the file, and as long again listing and stat-ing the tree
to learn which file changed (16,000 files at 100,000 claims): one after the other on one
core while the other core idles. ``started()`` forks a process that loads the parser at
once and then parses what the build sends it (``parse``); the build lists the tree
meanwhile. With nothing changed the process is ended unused (``close``), having cost the
fork. Many files to parse (a first build) go to the parse workers instead (cache.parse_all).

The process is forked before the build opens any database, and sends back the rows
cache.parse_file makes of each file (plain tuples, problems and warnings), pickled.
"""

import atexit
import contextlib
import os
import pickle
import signal
import sys

# The commands that parse seed files, and the parser process the entry point started for
# one of them (start_early), until the command takes it (started).
PARSING_COMMANDS = ("build", "check")
_early = None


class ParserProcess:
    def __init__(self):
        jobs_read, self.jobs = os.pipe()
        self.results, results_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the parser
            os.close(self.jobs)
            os.close(self.results)
            _serve(jobs_read, results_write)
        os.close(jobs_read)
        os.close(results_write)
        self.done = False

    def parse(self, work):
        """cache.parse_file of each item, in order; in this process if the parser failed."""
        from .cache import parse_file

        # (each pipe end is owned by its file object from here: closed however this ends)
        jobs, results = os.fdopen(self.jobs, "wb"), os.fdopen(self.results, "rb")
        try:
            with jobs:
                pickle.dump(work, jobs, protocol=pickle.HIGHEST_PROTOCOL)
            with results:
                parsed = pickle.load(results)
        except (OSError, EOFError, pickle.UnpicklingError):
            parsed = None  # (it died: the same work here says why, with a traceback)
        finally:
            results.close()
            self._reap()
        return parsed if parsed is not None else [parse_file(item) for item in work]

    def close(self):
        """End the parser unused (nothing to parse, or too much for one process)."""
        if not self.done:
            for end in (self.jobs, self.results):
                with contextlib.suppress(OSError):
                    os.close(end)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()

    def _reap(self):
        self.done = True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _serve(jobs_read, results_write):
    """The parser's whole life: load, parse one batch of work, answer, exit."""
    status = 1
    try:
        from . import models  # noqa: F401 (what this process exists to load early)
        from .cache import parse_file
        from .seeds import seed_loader

        seed_loader()
        with os.fdopen(jobs_read, "rb") as jobs:
            work = pickle.load(jobs)
        parsed = [parse_file(item) for item in work]
        with os.fdopen(results_write, "wb") as results:
            pickle.dump(parsed, results, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    except BaseException:  # noqa: BLE001 (the build parses the work itself and shows the error)
        pass
    finally:
        os._exit(status)


def _useful() -> bool:
    # not when the parser is loaded already (tests, a long-lived process), nor without fork
    return "tracker.models" not in sys.modules and hasattr(os, "fork")


def start_early(command):
    """Start the parser process for ``command`` (the first argument of the command line)
    if it is one of PARSING_COMMANDS: called by the entry point before anything else
    loads. Ended at exit if the command never takes it (``--help``, a bad option)."""
    global _early
    if command and command[0] in PARSING_COMMANDS and _early is None and _useful():
        _early = ParserProcess()
        atexit.register(_early.close)


@contextlib.contextmanager
def started():
    """A ParserProcess for the block (the one the entry point started, or a new one), or
    None where it would not help."""
    global _early
    parser, _early = _early, None
    if parser is None and _useful():
        parser = ParserProcess()
    try:
        yield parser
    finally:
        if parser is not None:
            parser.close()
