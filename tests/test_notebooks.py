"""The Colab notebooks in notebooks/: their structure, and a top-to-bottom run of each in fast mode.

Structure (fast): an "Open in Colab" badge first, a pip install that only runs on Colab, a fast-mode switch, no
stored outputs, and only tfstyle's public names.

Execution (slow): each notebook runs in a fresh kernel of this interpreter with `TFSTYLE_NOTEBOOK_FAST=1` (tiny
images, a few steps, no downloads) in a temporary folder; the kernel inherits `TFSTYLE_OFFLINE`, `KERAS_HOME` and
`TF_CPP_MIN_LOG_LEVEL` from conftest.py. A failing cell raises nbclient's `CellExecutionError` with the cell's
traceback.
"""

import ast
import json
import pathlib
import sys

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

import tfstyle

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("01_quickstart", "02_backbones_and_losses", "03_tensorboard", "04_adain", "05_cyclegan")
COLAB_URL = "https://colab.research.google.com/github/tfstyle/tfstyle/blob/main/notebooks/{name}.ipynb"
COLAB_GUARD = "'google.colab' in sys.modules"
INSTALL_SOURCE = "git+https://github.com/tfstyle/tfstyle"
FAST_ENV = "TFSTYLE_NOTEBOOK_FAST"
# what a notebook may use: tfstyle's curated names plus its public submodules
PUBLIC = {*tfstyle.__all__, "logging", "experiments"}
PUBLIC_MODULES = {"tfstyle", *(f"tfstyle.{name}" for name in ("backbones", "metrics", "logging", "experiments",
                                                               "adain", "data", "cyclegan"))}
# tensorflow_datasets: 05_cyclegan imports it inside a try, only when online (never in fast mode)
OTHER_PACKAGES = {"numpy", "matplotlib", "IPython", "ipywidgets", "tensorflow_datasets"}
CELL_TIMEOUT = 600  # seconds; a fast-mode notebook takes well under a minute on two busy cores


def load(name):
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def python_of(cell):
    """The cell's source as IPython runs it (magics become `get_ipython()` calls), parsed."""
    return ast.parse(TransformerManager().transform_cell(cell.source))


def magic_calls(tree, magic):
    """Calls of the line magic `magic` (`%magic` / `!magic`) in a parsed cell."""
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("run_line_magic", "system") and node.args
            and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).split()[:1] == [magic]]


def test_the_notebooks_are_all_here():
    assert sorted(path.stem for path in NOTEBOOK_DIR.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_is_a_valid_notebook(name):
    nbformat.validate(load(name))


@pytest.mark.parametrize("name", NAMES)
def test_first_cell_has_the_open_in_colab_badge(name):
    first = load(name).cells[0]
    assert first.cell_type == "markdown"
    assert f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]" \
           f"({COLAB_URL.format(name=name)})" in first.source


@pytest.mark.parametrize("name", NAMES)
def test_pip_install_runs_only_on_colab(name):
    guarded = unguarded = 0
    for cell in code_cells(load(name)):
        for statement in python_of(cell).body:
            calls = magic_calls(statement, "pip")
            is_guard = isinstance(statement, ast.If) and ast.unparse(statement.test) == COLAB_GUARD
            if is_guard:
                guarded += len(calls)
                assert all(INSTALL_SOURCE in ast.unparse(call) for call in calls), cell.source
            else:
                unguarded += len(calls)
    assert guarded >= 1 and unguarded == 0


@pytest.mark.parametrize("name", NAMES)
def test_reads_the_fast_mode_switch(name):
    assert any(FAST_ENV in cell.source for cell in code_cells(load(name)))


@pytest.mark.parametrize("name", NAMES)
def test_stored_without_outputs(name):
    for cell in code_cells(load(name)):
        assert cell.outputs == [] and cell.execution_count is None, cell.source
    raw = json.loads((NOTEBOOK_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    assert "widgets" not in raw["metadata"]


@pytest.mark.parametrize("name", NAMES)
def test_uses_only_public_api(name):
    """Imports: the standard library, numpy, matplotlib, IPython and public tfstyle modules; no `tfstyle._x`,
    `tfstyle.<internal module>` or `<public module>._x` anywhere."""
    trees = [(cell, python_of(cell)) for cell in code_cells(load(name))]
    modules = set(PUBLIC_MODULES)  # and the names `from tfstyle import backbones as bb` binds
    for cell, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    _check_module(alias.name, cell)
            elif isinstance(node, ast.ImportFrom):
                _check_module(node.module, cell)
                if node.module == "tfstyle":
                    assert all(alias.name in PUBLIC for alias in node.names), cell.source
                    modules.update(alias.asname or alias.name for alias in node.names)
    for cell, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "tfstyle":
                assert node.attr in PUBLIC, f"tfstyle.{node.attr} is not public:\n{cell.source}"
            elif isinstance(node, ast.Attribute) and ast.unparse(node.value) in modules:
                assert not node.attr.startswith("_"), f"{ast.unparse(node)} is private:\n{cell.source}"


def _check_module(module, cell):
    top = module.split(".")[0]
    if top == "tfstyle":
        assert module in PUBLIC_MODULES, f"{module} is not a public tfstyle module:\n{cell.source}"
    else:
        assert top in sys.stdlib_module_names or top in OTHER_PACKAGES, f"imports {module}:\n{cell.source}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_runs_top_to_bottom_in_fast_mode(name, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv(FAST_ENV, "1")
    # keep the kernel's IPython profile and connection files out of the home folder
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    notebook = load(name)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, km=_kernel_of_this_python(tmp_path),
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    assert all(cell.execution_count for cell in code_cells(notebook))


def _kernel_of_this_python(folder):
    """A kernel manager that starts `sys.executable -m ipykernel_launcher`, whatever kernels are installed."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = folder / "kernels" / "tfstyle-test"
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "tfstyle tests", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelManager(kernel_name="tfstyle-test",
                         kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(folder / "kernels")]))
