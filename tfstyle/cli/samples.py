"""`tfstyle samples`: built-in images usable as `sample:NAME` wherever an image is expected."""


def add_parser(subparsers):
    parser = subparsers.add_parser("samples", help="list built-in sample images (use them as sample:NAME)",
                                   description="List the built-in images; use them as sample:NAME, or write one "
                                               "to a file with --save NAME -o PATH.")
    parser.add_argument("--save", metavar="NAME", help="write sample NAME to the file given by -o")
    parser.add_argument("-o", "--output", help="output file for --save")
    parser.set_defaults(run=run)
    return parser


def run(args):
    from tfstyle import samples
    from tfstyle.cli.parsing import check_output_path
    from tfstyle.errors import OptionError

    if args.save:
        if not args.output:
            raise OptionError("--save needs -o PATH")
        check_output_path(args.output)
        from tfstyle.io import save_image

        print(f"wrote {save_image(args.output, samples.load(args.save))}")
        return 0
    for name, description in samples.available().items():
        print(f"sample:{name:<16} {description}")
    return 0
