"""Build of wse_server: the Go engine compiled with ``go build
-buildmode=c-shared`` into ``wse_server/libwse.so`` during ``build_py``.

The Go toolchain is the ``go`` on PATH, or the one named by $GO.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildGoLibrary(build_py):
    """build_py that also builds the Go library into the package."""

    def run(self) -> None:
        super().run()
        go = os.environ.get("GO") or shutil.which("go")
        if not go:
            raise RuntimeError("wse_server needs the Go toolchain (go on PATH, or $GO) to build libwse.so")
        out = os.path.join(os.path.abspath(self.build_lib), "wse_server", "libwse.so")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        env = dict(os.environ, CGO_ENABLED="1")
        cmd = [go, "build", "-trimpath", "-buildmode=c-shared", "-o", out, "./capi"]
        self.announce(" ".join(cmd), level=2)
        subprocess.run(cmd, cwd=HERE, env=env, check=True)
        header = os.path.splitext(out)[0] + ".h"
        if os.path.exists(header):
            os.remove(header)


class BinaryDistribution(Distribution):
    """The package carries a native library: its wheel is platform-specific."""

    def has_ext_modules(self) -> bool:
        return True


setup(cmdclass={"build_py": BuildGoLibrary}, distclass=BinaryDistribution)
