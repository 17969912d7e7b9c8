"""`tfstyle` entry point: parse → library call → write. `main([...])` is what tests call."""

import sys

from tfstyle import __version__
from tfstyle.cli import adain, backbones, samples, stylize, train_adain, train_cyclegan, translate
from tfstyle.cli.parsing import ArgumentParser, report_error
from tfstyle.errors import TfstyleError

EXIT_USAGE = 2


def build_parser():
    parser = ArgumentParser(prog="tfstyle", description="Image style transfer: optimization (Gatys), and more.")
    parser.add_argument("--version", action="version", version=f"tfstyle {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for command in (stylize, adain, train_adain, translate, train_cyclegan, backbones, samples):
        command.add_parser(subparsers)
    return parser


def main(raw_args=None):
    """Run the CLI with `raw_args` (default `sys.argv[1:]`); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(raw_args)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except TfstyleError as error:
        report_error(f"tfstyle {args.command}", error)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
