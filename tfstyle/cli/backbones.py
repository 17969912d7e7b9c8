"""`tfstyle backbones`: the feature networks, their default layers and whether their weights are here."""


def add_parser(subparsers):
    parser = subparsers.add_parser("backbones", help="list feature networks, default layers and weights status",
                                   description="List the backbones tfstyle can use. weights: present (ready), "
                                               "download (Keras fetches them on first use), missing (offline).")
    parser.add_argument("--layers", action="store_true", help="also list every selectable layer")
    parser.set_defaults(run=run)
    return parser


def run(args):
    from tfstyle.backbones import REGISTRY, available, resolve_backbone

    entries = available()
    for entry in entries:
        print(f"{entry['name']:<14} weights: {entry['weights']:<8} {entry['description']}")
        print(f"{'':<14} content: {','.join(entry['content_layers'])}  style: {','.join(entry['style_layers'])}"
              f"  min size: {entry['min_size']}")
        if args.layers:
            print(f"{'':<14} layers: {','.join(REGISTRY[entry['name']].layers)}")
    vgg19 = next(entry for entry in entries if entry["name"] == "vgg19")
    if vgg19["weights"] == "download":  # do not start a download just to print this line
        print("backbone auto: vgg19 if its ImageNet weights can be downloaded on first use, otherwise vgg16_hed")
    else:
        print(resolve_backbone("auto")[1])
    return 0
