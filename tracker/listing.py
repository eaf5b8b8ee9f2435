"""The listing of a seed tree (its document files, with their sizes and times) and the
stamp of a whole listing, which a build keeps with the database it wrote.

A rebuild with nothing changed learns it from the stamp alone: the same document files
with the same sizes and modification times (as make and rsync assume, and the seed cache
for each file), the same sources.yml and reviews.yml. Listing and stat-ing the tree is
most of what it reads (16,000 files at 100,000 claims: 50-65 ms, most of it the stat
calls themselves); the seed cache, the whole-tree checks and the tree's digest are left
alone. Anything else (a file touched, copied or checked out again, a build with --texts,
another version of the tracker) takes the whole path, which compares content.
"""

import array
import hashlib
import os
import stat as stat_module

from .seeds import Problem

SOURCES_FILE = "sources.yml"
REVIEWS_FILE = "reviews.yml"

# The stamp's own layout: a stamp made otherwise never equals one made now.
STAMP_FORMAT = 2


def seed_file_problem(seeds_dir, path):
    """Why ``path`` may not be read as a seed file (a Problem), or None when it may: seed
    files are regular files inside the seed tree; a symlink may point only inside it."""
    if not path.is_symlink():
        return None
    target = path.resolve()
    if not target.is_relative_to(seeds_dir.resolve()):
        return Problem(str(path), "a symbolic link that leads out of the seed tree: seed files must be inside it")
    if not target.is_file():
        return Problem(str(path), "a symbolic link to nothing (dangling): remove it or point it at a seed file")
    return None


def document_files(seeds_dir):
    """(path as a string, file name, stat) of every documents/*.yml, in name order, and
    the problems of entries that look like seed files but may not be read (bad links,
    names such as X.YML). Plain strings, not pathlib: this runs on every build, once per
    document file (16,000 pathlib paths cost 0.2 s). Each name is stat-ed in the open
    folder (lstat, which also tells a link): half the cost of os.scandir's entries and
    their stat, which looks up the whole path again."""
    folder = seeds_dir / "documents"
    if not folder.is_dir():
        return [], []
    files, problems = [], []
    prefix = str(folder) + os.sep
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in sorted(os.listdir(descriptor)):
            if not name.endswith(".yml") and not name.endswith(".yaml"):
                if name.lower().endswith((".yml", ".yaml")):
                    problems.append(Problem(prefix + name, "seed files end in .yml (lower case): rename it, or it "
                                                           "is not built"))
                continue
            try:
                stat = os.lstat(name, dir_fd=descriptor)
                if stat_module.S_ISLNK(stat.st_mode):
                    problem = seed_file_problem(seeds_dir, folder / name)
                    if problem:
                        problems.append(problem)
                        continue
                    stat = os.stat(name, dir_fd=descriptor)
            except FileNotFoundError:
                continue  # removed while the tree was listed: gone, as it would be a moment later
            if stat_module.S_ISREG(stat.st_mode):
                files.append((prefix + name, name, stat))
    finally:
        os.close(descriptor)
    return files, problems


def stamp(seeds_dir, listed, cache_version, sources_key, reviews_key) -> str | None:
    """The stamp of a listing (``document_files``' files) with the content keys of
    sources.yml and reviews.yml (their sha256, '' for no reviews.yml) and the version of
    the seed cache's parse. Each document file counts by its name, size and modification
    time, as the seed cache compares it; sources.yml and reviews.yml by their content, as
    a build reads them. (The database's tables and views are checked on the database
    itself.) None when it cannot vouch for the tree: sources.yml missing (no key), or
    either file a link (whose target a build must check)."""
    if sources_key is None or any((seeds_dir / name).is_symlink() for name in (SOURCES_FILE, REVIEWS_FILE)):
        return None
    digest = hashlib.sha256(f"listing {STAMP_FORMAT} cache {cache_version} no-texts\n"
                            f"{SOURCES_FILE} {sources_key}\n{REVIEWS_FILE} {reviews_key or '-'}\n".encode())
    digest.update("\0".join(name for _, name, _ in listed).encode())
    digest.update(array.array("q", [number for _, _, stat in listed for number in (stat.st_size, stat.st_mtime_ns)])
                  .tobytes())
    return digest.hexdigest()
