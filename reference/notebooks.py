"""Build the homework's notebooks: the template students receive and the solution built from `reference`.

`python -m reference.notebooks [DIR]` writes `DIR/homework.ipynb` (each item a stub to fill in) and
`DIR/solved.ipynb` (each item's code taken from this package with `inspect.getsource`), both nbformat
4.5 with fixed cell ids, so a rebuild is byte-identical. The cells follow the homework: its headings, its
demonstration cells and its training cells (which need Fashion-MNIST and are left unexecuted).
"""

from __future__ import annotations

import inspect
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

import reference


@dataclass(frozen=True)
class Item:
    """A cell that defines homework items: solved from `reference`, or left as `template` to fill in."""

    names: tuple[str, ...]
    template: str
    preamble: str = ""
    decorator: str = ""


@dataclass(frozen=True)
class Written:
    """A section answered in prose: its heading and question (a block quote), then the answer, a
    placeholder in the template, the homework text's answer in the solution. Staff grade these
    by hand (`grader.reports.written`)."""

    heading: str
    question: str
    answer: str


PLACEHOLDER = "*Your answer here.*"

Cell = str | Item | Written
"""A markdown cell (a string starting with '#'), a code cell (any other string), an Item, or a
Written section."""

IMPORTS = """\
import torch
from collections.abc import Callable, Sequence
from torch import Tensor, nn
from torch.nn import functional as F
from d2l import torch as d2l"""

CELLS: tuple[Cell, ...] = (
    "# COSE474 Deep Learning HW2: convolutional networks\n\n"
    "Fill in every cell marked `TODO`, keeping the names and signatures. The grader imports your "
    "functions and classes from this notebook; cells that train on Fashion-MNIST are not run by it. "
    "Answer the questions in block quotes in the Markdown cell below each: your instructor reads them.",
    "## 7.1 From Fully Connected Layers to Convolutions",
    Written(
        "### 7.1.1 Invariance",
        "Which principles should the first layers of a network for images follow, and why?",
        "The position of the patch of the image that is currently analyzed should not be treated "
        "differently depending on where the patch is located in the image. (translation "
        "invariance) Depending on how deep a layer is in the network it should be able to capture "
        "longer-range features.",
    ),
    Written(
        "### 7.1.4 Channels",
        "Why do images and hidden representations have channels, and what are they called?",
        "One pixel in an image has 3 channels (R - Red, G - Green, B - Blue) Therefore it is also "
        "a good idea to incorporate multiple channels into the hidden representations of our "
        "input. These channels are also called feature maps.",
    ),
    "## 7.2 Convolutions for Images\n\n### 7.2.1 The Cross-Correlation Operation",
    IMPORTS,
    Item(
        ("corr2d",),
        '''def corr2d(X, K):
    """Compute 2D cross-correlation."""
    # TODO: slide K over X and sum the elementwise products
    raise NotImplementedError''',
    ),
    "X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])\n"
    "K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])\n"
    "corr2d(X, K)",
    "### 7.2.2 Convolutional Layers",
    Item(
        ("Conv2D",),
        """class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        # TODO: a random weight of shape kernel_size and a zero bias, both nn.Parameter
        raise NotImplementedError

    def forward(self, x):
        # TODO
        raise NotImplementedError""",
    ),
    "### 7.2.3 Object Edge Detection in Images",
    "X = torch.ones((6, 8))\nX[:, 2:6] = 0\nX",
    "K = torch.tensor([[1.0, -1.0]])",
    "Y = corr2d(X, K)\nY",
    "corr2d(X.t(), K)",
    "### 7.2.4 Learning a Kernel",
    """conv2d = nn.LazyConv2d(1, kernel_size=(1, 2), bias=False)
X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))
lr = 3e-2

for i in range(10):
    Y_hat = conv2d(X)
    l = (Y_hat - Y) ** 2
    conv2d.zero_grad()
    l.sum().backward()
    conv2d.weight.data[:] -= lr * conv2d.weight.grad
    if (i + 1) % 2 == 0:
        print(f'epoch {i + 1}, loss {l.sum():.3f}')""",
    "conv2d.weight.data.reshape((1, 2))",
    Written(
        "### 7.2.5 Cross-Correlation and Convolution",
        "How does a layer that computes a cross-correlation give a strict convolution, and does "
        "the choice change what a convolutional layer computes once trained?",
        "In order to receive the output of a strict convolution operation from a two-dimensional "
        "convolution layer instead of a cross-correlation, the kernel tensor needs to be flipped "
        "both horizontally and vertically before performing the cross-correlation operation with "
        "the input tensor. The output of the convolution layers does not change depending on if a "
        "convolution or cross-correlation operation was performed.",
    ),
    Written(
        "### 7.2.6 Feature Map and Receptive Field",
        "What are a feature map and a receptive field?",
        "**Feature Map:** The output from a convolutional layer. Learned representations of the "
        "dimensions to the next layer.\n\n**Receptive Field:** For any element $x$ in a CNN, the "
        "receptive field refers to any other element in the CNN that has an influence on the "
        "calculation of $x$ during forward propagation.",
    ),
    "## 7.3 Padding and Stride",
    Item(
        ("comp_conv2d",),
        '''def comp_conv2d(conv2d, X):
    """Apply conv2d to a (h, w) input and return a (h_out, w_out) output."""
    # TODO: add batch and channel axes, apply conv2d, drop them again
    raise NotImplementedError''',
    ),
    "conv2d = nn.LazyConv2d(1, kernel_size=3, padding=1)\n"
    "X = torch.rand(size=(8, 8))\n"
    "comp_conv2d(conv2d, X).shape",
    "conv2d = nn.LazyConv2d(1, kernel_size=(5, 3), padding=(2, 1))\ncomp_conv2d(conv2d, X).shape",
    "conv2d = nn.LazyConv2d(1, kernel_size=3, padding=1, stride=2)\ncomp_conv2d(conv2d, X).shape",
    "conv2d = nn.LazyConv2d(1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))\n"
    "comp_conv2d(conv2d, X).shape",
    "## 7.4 Multiple Input and Multiple Output Channels",
    Item(
        ("corr2d_multi_in",),
        """def corr2d_multi_in(X, K):
    # TODO: cross-correlate each input channel with its kernel channel and add the results
    raise NotImplementedError""",
    ),
    "X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],\n"
    "                  [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])\n"
    "K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])\n"
    "corr2d_multi_in(X, K)",
    Item(
        ("corr2d_multi_in_out",),
        """def corr2d_multi_in_out(X, K):
    # TODO: one corr2d_multi_in per output channel, stacked along a new first axis
    raise NotImplementedError""",
    ),
    "K = torch.stack((K, K + 1, K + 2), 0)\nK.shape",
    "corr2d_multi_in_out(X, K)",
    Item(
        ("corr2d_multi_in_out_1x1",),
        """def corr2d_multi_in_out_1x1(X, K):
    # TODO: a 1x1 convolution as one matrix product
    raise NotImplementedError""",
    ),
    "X = torch.normal(0, 1, (3, 3, 3))\n"
    "K = torch.normal(0, 1, (2, 3, 1, 1))\n"
    "Y1 = corr2d_multi_in_out_1x1(X, K)\n"
    "Y2 = corr2d_multi_in_out(X, K)\n"
    "assert float(torch.abs(Y1 - Y2).sum()) < 1e-6",
    "## 7.5 Pooling",
    Item(
        ("pool2d",),
        """def pool2d(X, pool_size, mode='max'):
    # TODO: maximum (mode='max') or average (mode='avg') over each window, stride 1
    raise NotImplementedError""",
    ),
    "X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])\npool2d(X, (2, 2))",
    "pool2d(X, (2, 2), 'avg')",
    "X = torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4))\nX",
    "pool2d = nn.MaxPool2d(3)\npool2d(X)",
    "pool2d = nn.MaxPool2d(3, padding=1, stride=2)\npool2d(X)",
    "pool2d = nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))\npool2d(X)",
    "X = torch.cat((X, X + 1), 1)\nX",
    "pool2d = nn.MaxPool2d(3, padding=1, stride=2)\npool2d(X)",
    "## 7.6 Convolutional Neural Networks (LeNet)",
    Item(
        ("init_cnn", "LeNet"),
        """def init_cnn(module):
    # TODO: Xavier-uniform weights for nn.Linear and nn.Conv2d layers
    raise NotImplementedError

class LeNet(d2l.Classifier):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        # TODO: self.net = nn.Sequential(...) with Lazy layers, as in section 7.6.1
        raise NotImplementedError""",
    ),
    Item(
        ("layer_summary",),
        """@d2l.add_to_class(d2l.Classifier)  #@save
def layer_summary(self, X_shape):
    # TODO: print each layer's class name and output shape
    raise NotImplementedError""",
        decorator="@d2l.add_to_class(d2l.Classifier)  #@save",
    ),
    "model = LeNet()\nmodel.layer_summary((1, 1, 28, 28))",
    "### 7.6.2 Training",
    "trainer = d2l.Trainer(max_epochs=10, num_gpus=1)\n"
    "data = d2l.FashionMNIST(batch_size=128)\n"
    "model = LeNet(lr=0.1)\n"
    "model.apply_init([next(iter(data.get_dataloader(True)))[0]], init_cnn)\n"
    "trainer.fit(model, data)",
    "## 8.2 Networks Using Blocks (VGG)",
    Item(
        ("vgg_block",),
        """def vgg_block(num_convs, out_channels):
    # TODO: num_convs 3x3 convolutions with padding 1, each followed by ReLU, then 2x2 max pooling
    raise NotImplementedError""",
    ),
    Item(
        ("VGG",),
        """class VGG(d2l.Classifier):
    def __init__(self, arch, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        # TODO: one vgg_block per (num_convs, out_channels) in arch, then the dense layers
        raise NotImplementedError""",
        preamble="VGGArch = Sequence[tuple[int, int]]",
    ),
    "VGG(arch=((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))).layer_summary(\n    (1, 1, 224, 224))",
    "### 8.2.3 Training",
    "model = VGG(arch=((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)), lr=0.01)\n"
    "trainer = d2l.Trainer(max_epochs=10, num_gpus=1)\n"
    "data = d2l.FashionMNIST(batch_size=128, resize=(224, 224))\n"
    "model.apply_init([next(iter(data.get_dataloader(True)))[0]], d2l.init_cnn)\n"
    "trainer.fit(model, data)",
    "## 8.6 Residual Networks (ResNet)",
    Written(
        "### 8.6.1 Function Classes",
        "Why does a larger class of functions not always give a better network, and when does it?",
        "Given $F$, the class of functions that a given network architecture can reach, we want to "
        'find $f_F^*$, the closest representation of the "true" function $f^*$ that is '
        "contained in $F$. Even though it might make sense to increase the size of the function "
        "class as much as possible, this can sometimes have a negative effect on the quality of "
        "the best possible function in the class. Unless $F \\subseteq F'$, we cannot guarantee, "
        "that $f_{F'}^*$ is better than $f_F^*$.",
    ),
    Written(
        "### 8.6.2 Residual Blocks",
        "What does a residual block learn instead of the mapping f(x), and why does that help?",
        "Instead of having to learn the underlying mapping $f(x)$ directly as a regular block "
        "would, a residual block has to learn the residual mapping $g(x) = f(x) - x$. If the "
        "underlying mapping is the identity function $f(x) = x$, using a residual block makes "
        "this a lot easier. With residual blocks, inputs can forward propagate faster through the "
        "residual connections across layers.",
    ),
    Item(
        ("Residual",),
        '''class Residual(nn.Module):  #@save
    """The Residual block of ResNet models."""
    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        # TODO: two 3x3 convolutions with batch norm, and an optional 1x1 convolution
        raise NotImplementedError

    def forward(self, X):
        # TODO
        raise NotImplementedError''',
    ),
    "blk = Residual(3)\nX = torch.randn(4, 3, 6, 6)\nblk(X).shape",
    "blk = Residual(6, use_1x1conv=True, strides=2)\nblk(X).shape",
    Item(
        ("ResNet",),
        """class ResNet(d2l.Classifier):
    def b1(self):
        # TODO: 7x7 convolution, batch norm, ReLU, 3x3 max pooling
        raise NotImplementedError

    def block(self, num_residuals, num_channels, first_block=False):
        # TODO
        raise NotImplementedError

    def __init__(self, arch, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        # TODO: b1, one block per (num_residuals, num_channels) in arch, then the head
        raise NotImplementedError""",
        preamble="ResNetArch = Sequence[tuple[int, int]]\nRESNET18 = ((2, 64), (2, 128), (2, 256), (2, 512))",
    ),
    Item(
        ("ResNet18",),
        """class ResNet18(ResNet):
    def __init__(self, lr=0.1, num_classes=10):
        # TODO: ResNet with four stages of two residual blocks
        raise NotImplementedError""",
    ),
    "ResNet18().layer_summary((1, 1, 96, 96))",
    "### 8.6.4 Training",
    "model = ResNet18(lr=0.01)\n"
    "trainer = d2l.Trainer(max_epochs=10, num_gpus=1)\n"
    "data = d2l.FashionMNIST(batch_size=128, resize=(96, 96))\n"
    "model.apply_init([next(iter(data.get_dataloader(True)))[0]], d2l.init_cnn)\n"
    "trainer.fit(model, data)",
)


def solution(item: Item) -> str:
    """The code of an item's cell, from the reference's source."""
    parts = [item.preamble] if item.preamble else []
    for name in item.names:
        source = textwrap.dedent(inspect.getsource(getattr(reference, name)))
        parts.append(f"{item.decorator}\n{source}" if item.decorator else source)
    return "\n\n".join(part.rstrip() for part in parts)


def build(*, solved: bool) -> nbformat.NotebookNode:
    """The template (solved=False) or solved notebook, with ids cell-00, cell-01, ..."""
    cells = []
    for cell in CELLS:
        if isinstance(cell, Item):
            cells.append(nbformat.v4.new_code_cell(solution(cell) if solved else cell.template))
        elif isinstance(cell, Written):
            cells.append(nbformat.v4.new_markdown_cell(f"{cell.heading}\n\n> {cell.question}"))
            cells.append(nbformat.v4.new_markdown_cell(cell.answer if solved else PLACEHOLDER))
        elif cell.startswith("#"):
            cells.append(nbformat.v4.new_markdown_cell(cell))
        else:
            cells.append(nbformat.v4.new_code_cell(cell))
    for i, node in enumerate(cells):
        node["id"] = f"cell-{i:02d}"
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    return notebook


def write(folder: Path) -> list[Path]:
    """Write homework.ipynb and solved.ipynb into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, solved in (("homework.ipynb", False), ("solved.ipynb", True)):
        notebook = build(solved=solved)
        nbformat.validate(notebook)
        path = folder / name
        path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write(Path(sys.argv[1] if len(sys.argv) > 1 else "submissions")):
        print(written)
