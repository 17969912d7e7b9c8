"""How the trained networks shipped with tfstyle are named in the package folder `tfstyle/weights/`.

A shipped network is two files with one stem, `{family}_{name}_{kind}`: the network file (`.weights.h5`,
`.keras`) and its JSON config, and it is asked for by its short `name`. AdaIN decoders are
`adain_{name}_decoder.weights.h5` + `.json` (`tfstyle.adain.pretrained`); CycleGAN generators are
`cyclegan_{name}_generator.keras` + `.json` (`tfstyle.cyclegan.pretrained`). Both name and list their files through
`ShippedFiles`, so the convention is written once.

Example:
    >>> decoders = ShippedFiles("adain", "decoder", ".weights.h5", ".json")
    >>> decoders.paths("vgg16_hed", WEIGHTS_DIR)[0].name
    'adain_vgg16_hed_decoder.weights.h5'
    >>> decoders.names(WEIGHTS_DIR)
    ['vgg16_hed']
"""

import dataclasses
import pathlib

WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / "weights"
"""The package folder of the networks tfstyle ships."""


@dataclasses.dataclass(frozen=True)
class ShippedFiles:
    """The file names of one family of shipped networks: `{family}_{name}_{kind}{suffix}` + `{config_suffix}`.

    Attributes:
        family: first part of the stem (`"adain"`, `"cyclegan"`).
        kind: last part of the stem (`"decoder"`, `"generator"`).
        suffix: the network file's ending (`".weights.h5"`, `".keras"`).
        config_suffix: the config file's ending (`".json"`).
    """

    family: str
    kind: str
    suffix: str
    config_suffix: str

    def paths(self, name, folder):
        """The `(network, config)` paths of the shipped network `name` in `folder` (which may not exist)."""
        folder = pathlib.Path(folder)
        stem = f"{self.family}_{name}_{self.kind}"
        return folder / f"{stem}{self.suffix}", folder / f"{stem}{self.config_suffix}"

    def names(self, folder):
        """Names of the networks in `folder` whose network file and config are both present, sorted."""
        folder = pathlib.Path(folder)
        if not folder.is_dir():
            return []
        prefix, ending = f"{self.family}_", f"_{self.kind}{self.suffix}"
        names = []
        for path in folder.glob(f"{prefix}*{ending}"):
            name = path.name[len(prefix):-len(ending)]
            if name and all(file.is_file() for file in self.paths(name, folder)):
                names.append(name)
        return sorted(names)
