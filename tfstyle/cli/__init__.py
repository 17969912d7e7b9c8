"""The `tfstyle` command line: argparse subcommands that parse options, call the library and write files."""
