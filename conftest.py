"""Project conftest: deliberately thin. The harness is the ``harness`` plugin (pytest11 entry point)."""

pytest_plugins = ["pytester"]
