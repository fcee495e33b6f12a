"""Makes the wheel platform-specific (``py3-none-linux_x86_64``) when it carries
``src/sockeye/_lib/libsockeye.so``: the package has no compiled extension of its own
(ctypes only), but the shared library it ships is built for one platform. PyPI takes no
``linux_x86_64`` wheel: build-wheel.sh turns it into a manylinux one (``auditwheel repair``)."""
import os

from setuptools import setup
from setuptools.dist import Distribution

BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src", "sockeye", "_lib", "libsockeye.so")
cmdclass = {}

if os.path.exists(BUNDLED):
    from setuptools.command.bdist_wheel import bdist_wheel

    class PlatformWheel(bdist_wheel):
        """A wheel for this platform, any Python 3 (the library is loaded with ctypes)."""

        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, platform = super().get_tag()
            return "py3", "none", platform

    class BinaryDistribution(Distribution):
        def has_ext_modules(self):
            return True

    cmdclass["bdist_wheel"] = PlatformWheel
    setup(cmdclass=cmdclass, distclass=BinaryDistribution)
else:
    setup()
