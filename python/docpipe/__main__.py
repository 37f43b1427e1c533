"""``python -m docpipe ARGS...`` runs ``docpipe ARGS...``."""

import os
import sys

from docpipe import find_docpipe_bin


def main() -> None:
    """Run the docpipe executable with this process's arguments, in its place."""
    path = find_docpipe_bin()
    if sys.platform == "win32":
        import subprocess

        sys.exit(subprocess.run([path, *sys.argv[1:]]).returncode)
    os.execv(path, [path, *sys.argv[1:]])


if __name__ == "__main__":
    main()
