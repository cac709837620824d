"""The command line: failures it cannot turn into a one-line error, help texts, and examples that parse."""

import argparse
import shlex
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


def _subparsers(parser: argparse.ArgumentParser):
    """Every (name, parser) below `parser`, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from _subparsers(sub)


def test_every_option_has_help_text():
    from engine.cli import build_parser

    missing = [
        f"{name} {action.dest}"
        for name, sub in _subparsers(build_parser())
        for action in sub._actions
        if action.help is None and not isinstance(action, argparse._SubParsersAction)
    ]
    assert not missing


def test_the_one_line_summaries_are_the_commands_own():
    from engine.cli import COMMANDS, build_parser

    full = {action.dest: action.help for action in next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))._choices_actions}
    assert full == {name: summary for name, (_, summary) in COMMANDS.items()}


def _example_commands(text: str) -> list[list[str]]:
    """The `engine ...` and `torchrun ... -m engine.train ...` lines of an epilog, continuations joined, comments cut."""
    lines, joined = text.splitlines(), []
    while lines:
        line = lines.pop(0).strip()
        while line.endswith("\\") and lines:
            line = line[:-1] + " " + lines.pop(0).strip()
        if line.startswith(("engine ", "torchrun ")):
            joined.append(shlex.split(line, comments=True))
    return joined


def test_every_epilog_example_parses_with_the_cli_parser():
    from engine.cli import build_parser
    from engine.train.cli import add_train_arguments

    parser = build_parser()
    examples = [command for _, sub in _subparsers(parser) for command in _example_commands(sub.epilog or "")]
    assert len(examples) >= 15
    trainer = argparse.ArgumentParser(exit_on_error=False)
    add_train_arguments(trainer)
    for command in examples:
        try:
            if command[0] == "torchrun":
                trainer.parse_args(command[command.index("engine.train") + 1 :])
            else:
                parser.parse_args(command[1:])
        except SystemExit:
            raise AssertionError(f"epilog example does not parse: {shlex.join(command)}") from None
