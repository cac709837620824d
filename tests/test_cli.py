"""What every entry point does with failures it cannot turn into a one-line error."""
import signal
import subprocess
import sys


def test_a_crash_in_native_code_still_prints_the_python_stack():
    """A segfault (here: reading address 0 through ctypes) cannot be caught; the entry point must
    at least say which Python line it happened on."""
    crash = "import ctypes; from engine.cli import run_reporting_errors; run_reporting_errors(lambda: ctypes.string_at(0))"
    result = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGSEGV
    assert "Segmentation fault" in result.stderr and "in run_reporting_errors" in result.stderr
