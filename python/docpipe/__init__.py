"""The docpipe command, installed from its wheel: the Rust binary does the work."""

import os
import sys
import sysconfig


def find_docpipe_bin() -> str:
    """Return the path of the ``docpipe`` executable this package installed.

    Returns:
        The path of the executable.

    Raises:
        FileNotFoundError: When no ``docpipe`` executable is where pip, pipx
            or uv put the package's scripts.
    """
    exe = "docpipe" + (sysconfig.get_config_var("EXE") or "")
    places = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    user_scheme = sysconfig.get_preferred_scheme("user") if sys.version_info >= (3, 10) else None
    if user_scheme:
        places.append(sysconfig.get_path("scripts", scheme=user_scheme))
    for place in places:
        path = os.path.join(place, exe)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "the docpipe executable is not in " + ", ".join(places) + "; reinstall the package"
    )
