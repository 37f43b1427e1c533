"""Copies the .py files of this Python's standard library (no site-packages,
no __pycache__) to the directory given, keeping the tree and the mtimes.

    python3 bench/copy_stdlib.py DEST
"""

import os
import shutil
import sys
import sysconfig

src = sysconfig.get_paths()["stdlib"]
dst = sys.argv[1]
for d, dirs, files in os.walk(src):
    dirs[:] = [x for x in dirs if x not in ("site-packages", "__pycache__")]
    for f in files:
        if f.endswith(".py"):
            rel = os.path.relpath(os.path.join(d, f), src)
            os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(d, f), os.path.join(dst, rel))
