"""pip install ./python (offline: Debian's python3-setuptools, no download).

The package is pure Python over libslashscope.so. When a built library is
found ($SLASHSCOPE_LIB, or ../build/libslashscope.so next to this folder) a
copy is installed inside the package, so the installed package needs no
environment variable; otherwise it looks for the library at run time
(slashscope/_lib.py)."""
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def built_library():
    env = os.environ.get("SLASHSCOPE_LIB")
    for p in ([Path(env)] if env else []) + [HERE.parent / "build" / "libslashscope.so"]:
        if p.is_file():
            return p.resolve()
    return None


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        lib = built_library()
        if lib is not None:
            dst = Path(self.build_lib) / "slashscope" / "libslashscope.so"
            shutil.copyfile(lib, dst)
            self.announce("bundled %s" % lib, level=2)


setup(
    name="slashscope",
    version="0.1.0",
    description="Find and explain slash-dominant attention heads in RoPE language models",
    packages=["slashscope"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    cmdclass={"build_py": BuildWithLibrary},
    zip_safe=False,
)
