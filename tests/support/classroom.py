"""A generated class for the similarity tests and benchmark: honest students who all start from the
book, and pairs in which one student copied another and disguised it.

An honest student keeps the book's code for most items and writes some in a way of their own, drawn
from the ways students do write them (unfold, comprehensions, while loops, einsum, offsets), renames
variables, rewrites comments, moves a demo cell, sometimes adds a small experiment and sometimes
makes one of the known mistakes; they answer the written questions in their own words, built from the
ideas and phrases any student of the section would use. A copier takes another student's whole
notebook and renames its identifiers, reformats it, reorders cells, changes the comments and edits
the prose a little. Everything is drawn from a seeded random generator, so a class is the same on
every run.
"""

from __future__ import annotations

import copy
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLVED = ROOT / "submissions" / "solved.ipynb"

# Ways of writing an item that students find without the book: (item, source).
ALTERNATIVES: dict[str, list[str]] = {
    "corr2d": [
        "def corr2d(X, K):\n    h, w = K.shape\n    patches = X.unfold(0, h, 1).unfold(1, w, 1)\n"
        "    return (patches * K).sum(dim=(-1, -2))\n",
        "def corr2d(X, K):\n    h, w = K.shape\n    rows = X.shape[0] - h + 1\n    cols = X.shape[1] - w + 1\n"
        "    return torch.tensor([[torch.sum(X[r:r + h, c:c + w] * K) for c in range(cols)]\n"
        "                         for r in range(rows)])\n",
        "def corr2d(X, K):\n    kh, kw = K.shape\n    out = torch.zeros(X.shape[0] - kh + 1, X.shape[1] - kw + 1)\n"
        "    i = 0\n    while i < out.shape[0]:\n        j = 0\n        while j < out.shape[1]:\n"
        "            out[i][j] = torch.sum(X[i:i+kh, j:j+kw] * K)\n            j += 1\n        i += 1\n"
        "    return out\n",
        "def corr2d(X, K):\n    h, w = K.shape\n    oh, ow = X.shape[0] - h + 1, X.shape[1] - w + 1\n"
        "    Y = torch.zeros((oh, ow))\n    for a in range(h):\n        for b in range(w):\n"
        "            Y += K[a, b] * X[a:a + oh, b:b + ow]\n    return Y\n",
    ],
    "pool2d": [
        "def pool2d(X, pool_size, mode='max'):\n    p_h, p_w = pool_size\n"
        "    windows = X.unfold(0, p_h, 1).unfold(1, p_w, 1)\n    if mode == 'max':\n"
        "        return windows.amax(dim=(-1, -2))\n    if mode == 'avg':\n"
        "        return windows.mean(dim=(-1, -2))\n    return torch.zeros(windows.shape[:2])\n",
        "def pool2d(X, pool_size, mode='max'):\n    p_h, p_w = pool_size\n"
        "    reduce = {'max': torch.max, 'avg': torch.mean}[mode]\n"
        "    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))\n"
        "    for i in range(Y.shape[0]):\n        for j in range(Y.shape[1]):\n"
        "            Y[i, j] = reduce(X[i:i + p_h, j:j + p_w])\n    return Y\n",
        "def pool2d(X, pool_size, mode='max'):\n    ph, pw = pool_size\n    H, W = X.shape\n"
        "    result = []\n    for r in range(H - ph + 1):\n        row = []\n        for c in range(W - pw + 1):\n"
        "            window = X[r:r + ph, c:c + pw]\n"
        "            row.append(window.max() if mode == 'max' else window.mean())\n"
        "        result.append(torch.stack(row))\n    return torch.stack(result)\n",
    ],
    "corr2d_multi_in": [
        "def corr2d_multi_in(X, K):\n    return torch.stack([corr2d(x, k) for x, k in zip(X, K)]).sum(0)\n",
        "def corr2d_multi_in(X, K):\n    total = corr2d(X[0], K[0])\n    for c in range(1, X.shape[0]):\n"
        "        total = total + corr2d(X[c], K[c])\n    return total\n",
    ],
    "corr2d_multi_in_out": [
        "def corr2d_multi_in_out(X, K):\n    outputs = []\n    for k in K:\n"
        "        outputs.append(corr2d_multi_in(X, k))\n    return torch.stack(outputs)\n",
    ],
    "corr2d_multi_in_out_1x1": [
        "def corr2d_multi_in_out_1x1(X, K):\n    return torch.einsum('oi,ihw->ohw', K[:, :, 0, 0], X)\n",
        "def corr2d_multi_in_out_1x1(X, K):\n    c_i, h, w = X.shape\n"
        "    return (K.reshape(K.shape[0], c_i) @ X.reshape(c_i, -1)).reshape(-1, h, w)\n",
    ],
    "comp_conv2d": [
        "def comp_conv2d(conv2d, X):\n    return conv2d(X[None, None])[0, 0]\n",
        "def comp_conv2d(conv2d, X):\n    X = X.unsqueeze(0).unsqueeze(0)\n"
        "    return conv2d(X).squeeze(0).squeeze(0)\n",
    ],
}

# Small experiments students add below a section (many students write the same few).
EXPERIMENTS = [
    "for size in [(3, 3), (5, 5), (7, 7)]:\n    print(size, comp_conv2d(nn.LazyConv2d(1, kernel_size=size, "
    "padding=1), torch.rand(8, 8)).shape)\n",
    "K_edge = torch.tensor([[1.0, 0.0, -1.0]])\nprint(corr2d(torch.eye(6), K_edge))\n",
    "print(pool2d(torch.arange(16.0).reshape(4, 4), (2, 2), 'avg'))\n",
    "model = LeNet()\nmodel.layer_summary((1, 1, 28, 28))\n",
    "print(sum(p.numel() for p in LeNet().parameters() if p.requires_grad))\n",
]

# Mistakes students make (each as the line it changes), as in tests/fixtures/notebooks.
MISTAKES = [
    ("(X[i : i + h, j : j + w] * K).sum()", "(X[i : i + h, j : j + w] * K.flip(0, 1)).sum()"),
    ("X[i : i + p_h, j : j + p_w].mean()", "X[i : i + p_h, j : j + p_w].sum()"),
    ("            nn.Dropout(0.5),\n", ""),
    (
        "nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)",
        "nn.LazyConv2d(num_channels, kernel_size=1)",
    ),
]

NAMES = {
    "Y": ["out", "result", "output", "res", "Z", "Y_out"],
    "h": ["kh", "k_h", "kernel_h", "height"],
    "w": ["kw", "k_w", "kernel_w", "width"],
    "i": ["r", "row", "ii", "y"],
    "j": ["c", "col", "jj", "x"],
    "blk": ["blocks", "layers", "stage"],
    "conv_blks": ["blocks", "convs", "features"],
    "layers": ["modules", "mods", "parts"],
}

# Ideas a written answer is built from: each a sentence with choices in braces.
IDEAS = {
    "7.1.1": [
        "{The first|The early|The lowest} layers should {respond|react} {the same way|similarly} to a "
        "patch {wherever|no matter where} it {appears|is} in the {image|picture}, which is "
        "{translation invariance|shift invariance}.",
        "They should {also|} {look at|focus on} {small|local} {regions|neighbourhoods} only "
        "({locality|the locality principle}) {because|since} {nearby pixels are related|pixels close "
        "together are correlated|far away pixels rarely matter at first}.",
        "{Deeper|Later} layers can then {combine|aggregate} {these|the} local features into "
        "{larger|long range} {patterns|structures} {of the image|}.",
        "{This|Doing so} {cuts|reduces} the number of parameters {a lot|drastically|enormously} "
        "compared with a fully connected layer.",
    ],
    "7.1.4": [
        "{Colour|Color} images have {three|3} channels, {red, green and blue|RGB}, {so|and therefore} "
        "{every|each} pixel is a vector and not a single number.",
        "{Hidden|Intermediate} representations {get|are given} channels too, so that {each|every} "
        "channel can {detect|pick up} a {different|separate} {feature|pattern} such as edges or textures.",
        "{These|The hidden} channels are {called|known as} feature maps {or channels|}.",
    ],
    "7.2.5": [
        "{Flipping|If we flip} the kernel {horizontally and vertically|along both axes} {turns|makes} "
        "the cross-correlation {into|} a {strict|true} convolution.",
        "{Since|Because} the kernel is learned from data, {a layer|the network} {simply|just} learns the "
        "flipped kernel, so {the output|what it computes} {does not change|stays the same}.",
    ],
    "7.2.6": [
        "A feature map is the {output|result} of a convolutional layer {seen|viewed} as {a map|an image} "
        "of {learned|spatial} features {for the next layer|}.",
        "The receptive field of an {element|output unit} is {every|the set of} {input|earlier} "
        "{element|position} that {can affect|influences} {its value|it} {during forward propagation|}.",
        "{Deeper|Later} layers have {larger|bigger} receptive fields {than the first ones|}.",
    ],
    "8.6.1": [
        "{A bigger|A larger} function class {only|} helps {if|when} it {contains|includes} the smaller "
        "one, {i.e.|that is} the classes are nested.",
        "{Otherwise|If not} the {best|closest} function in the {bigger|larger} class {can be|may be} "
        "{further|farther} from the {true|target} function.",
    ],
    "8.6.2": [
        "{A residual block|The block} learns the residual g(x) = f(x) - x {instead of|rather than} "
        "f(x) {itself|directly}.",
        "{If|When} the {ideal|wanted} mapping is {close to|near} the identity, {pushing|driving} the "
        "weights {to|towards} zero is {easy|easier}, {so|and} {deep|very deep} networks train "
        "{better|more easily}.",
        "The inputs can {also|} {propagate|flow} {faster|directly} through the {shortcut|skip "
        "connection} {across layers|}.",
    ],
}

SECTIONS = tuple(IDEAS)
_CHOICE = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Student:
    name: str
    notebook: dict


def _cells(nb: dict) -> list[dict]:
    return nb["cells"]


def _source(cell: dict) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def _set(cell: dict, text: str) -> None:
    cell["source"] = text
    if cell["cell_type"] == "code":
        cell["outputs"] = []


def _sentence(template: str, rng: random.Random) -> str:
    text = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    return re.sub(r"\s+", " ", text).replace(" ,", ",").replace(" .", ".").strip()


def _answer(section: str, rng: random.Random) -> str:
    ideas = IDEAS[section]
    chosen = rng.sample(ideas, k=rng.randint(max(1, len(ideas) - 2), len(ideas)))
    return " ".join(_sentence(idea, rng) for idea in chosen)


def _rename(code: str, mapping: dict[str, str]) -> str:
    for old, new in mapping.items():
        code = re.sub(rf"(?<![.\w'\"]){re.escape(old)}(?![\w'\"])", new, code)
    return code


def _strip_docstrings_and_comments(code: str) -> str:
    code = re.sub(r'\n(\s*)"""(?:.|\n)*?"""', "", code)
    return "\n".join(line for line in code.split("\n") if not line.strip().startswith("#"))


def _comment(rng: random.Random) -> str:
    words = ["compute", "the", "output", "loop", "over", "windows", "shape", "here", "check",
             "kernel", "sum", "each", "channel", "note", "stack", "result", "first", "then"]  # fmt: skip
    return "# " + " ".join(rng.choice(words) for _ in range(rng.randint(2, 6)))


def _item_cell(nb: dict, item: str) -> dict | None:
    pattern = re.compile(rf"^(def|class) {re.escape(item)}\b", re.MULTILINE)
    return next(
        (c for c in _cells(nb) if c["cell_type"] == "code" and pattern.search(_source(c))), None
    )


def honest(name: str, rng: random.Random) -> Student:
    """A student who starts from the book and makes it their own in the usual ways."""
    nb = copy.deepcopy(json.loads(SOLVED.read_text(encoding="utf-8")))
    for item, ways in ALTERNATIVES.items():
        if rng.random() < 0.35:
            cell = _item_cell(nb, item)
            if cell is not None:
                _set(cell, rng.choice(ways))
    mapping = {old: rng.choice(new) for old, new in NAMES.items() if rng.random() < 0.5}
    for cell in _cells(nb):
        if cell["cell_type"] != "code":
            continue
        code = _source(cell)
        if rng.random() < 0.5:
            code = _strip_docstrings_and_comments(code)
        if rng.random() < 0.3:
            code = _comment(rng) + "\n" + code
        _set(cell, _rename(code, mapping))
    for old, new in rng.sample(MISTAKES, k=rng.choice([0, 0, 0, 1])):
        for cell in _cells(nb):
            if old in _source(cell):
                _set(cell, _source(cell).replace(old, new))
    _answer_all(nb, lambda section: _answer(section, rng))
    for experiment in EXPERIMENTS:
        if rng.random() < 0.3:
            at = rng.randrange(10, len(_cells(nb)))
            _cells(nb).insert(at, _code_cell(experiment))
    _move_a_demo_cell(nb, rng)
    return Student(name, nb)


def _code_cell(source: str) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def _answer_all(nb: dict, answer) -> None:  # type: ignore[no-untyped-def]
    cells = _cells(nb)
    for index, cell in enumerate(cells[:-1]):
        heading = re.match(r"^#+\s+(\d+(?:\.\d+)+)", _source(cell))
        if heading and heading.group(1) in IDEAS and cells[index + 1]["cell_type"] == "markdown":
            _set(cells[index + 1], answer(heading.group(1)))


def _move_a_demo_cell(nb: dict, rng: random.Random) -> None:
    cells = _cells(nb)
    demos = [
        i for i, c in enumerate(cells)
        if c["cell_type"] == "code" and not re.search(r"^(def|class|import|from) ", _source(c), re.M)
    ]  # fmt: skip
    if len(demos) > 2:
        i = rng.choice(demos[:-1])
        cells[i], cells[i + 1] = cells[i + 1], cells[i]


# What a source of a copied pair wrote of their own (three different students).
OWN_WORK = [
    [
        "def corr2d(X, K):\n    kernel_rows, kernel_cols = K.shape\n"
        "    view = torch.as_strided(X, size=(X.shape[0] - kernel_rows + 1, X.shape[1] - kernel_cols + 1,\n"
        "                                     kernel_rows, kernel_cols),\n"
        "                            stride=(X.stride(0), X.stride(1), X.stride(0), X.stride(1)))\n"
        "    return torch.einsum('ijkl,kl->ij', view, K)\n",
        "import time\n\ndef timed(fn, *args, repeat=20):\n    start = time.perf_counter()\n"
        "    for _ in range(repeat):\n        fn(*args)\n    return (time.perf_counter() - start) / repeat\n\n"
        "big = torch.rand(64, 64)\nker = torch.rand(5, 5)\n"
        "print('strided', timed(corr2d, big, ker))\n"
        "print('conv2d', timed(lambda a, b: F.conv2d(a[None, None], b[None, None]), big, ker))\n",
    ],
    [
        "def pool2d(X, pool_size, mode='max'):\n    ph, pw = pool_size\n    padded = X.clone()\n"
        "    out_h, out_w = padded.shape[0] - ph + 1, padded.shape[1] - pw + 1\n"
        "    stacked = torch.stack([padded[a:a + out_h, b:b + out_w] for a in range(ph) for b in range(pw)])\n"
        "    if mode == 'max':\n        return stacked.max(dim=0).values\n"
        "    elif mode == 'avg':\n        return stacked.mean(dim=0)\n"
        "    raise ValueError(f'unknown mode {mode}')\n",
        "import matplotlib.pyplot as plt\n\nfig, axes = plt.subplots(1, 3, figsize=(9, 3))\n"
        "img = torch.zeros(10, 10)\nimg[3:7, 3:7] = 1\n"
        "for ax, (title, kern) in zip(axes, [('vertical', torch.tensor([[1.0, -1.0]])),\n"
        "                                    ('horizontal', torch.tensor([[1.0], [-1.0]])),\n"
        "                                    ('blur', torch.ones(3, 3) / 9)]):\n"
        "    ax.imshow(corr2d(img, kern), cmap='gray')\n    ax.set_title(title)\n    ax.axis('off')\n"
        "plt.tight_layout()\nplt.show()\n",
    ],
    [
        "def corr2d_multi_in_out(X, K):\n    c_o = K.shape[0]\n    first = corr2d_multi_in(X, K[0])\n"
        "    result = torch.empty((c_o, *first.shape))\n    result[0] = first\n"
        "    for o in range(1, c_o):\n        result[o] = corr2d_multi_in(X, K[o])\n    return result\n",
        "kernel = torch.rand((1, 2), requires_grad=True)\nlearning_rate = 0.03\nhistory = []\n"
        "for epoch in range(30):\n    prediction = corr2d(X.reshape(6, 8), kernel)\n"
        "    loss = ((prediction - Y.reshape(6, 7)) ** 2).sum()\n    loss.backward()\n"
        "    with torch.no_grad():\n        kernel -= learning_rate * kernel.grad\n        kernel.grad.zero_()\n"
        "    history.append(loss.item())\n    if epoch % 5 == 4:\n"
        "        print(f'epoch {epoch + 1}: loss {loss.item():.4f}')\nprint(kernel)\n",
    ],
]

# What the source of a copied pair wrote in their answers (besides the usual ideas).
OWN_PROSE = [
    "I think of a convolution layer as a small detector slid over the picture; my intuition came from "
    "the edge example where the same two numbers found every vertical edge in the image at once.",
    "When I drew the receptive fields on paper for two stacked 3x3 layers I saw that the second layer "
    "already looks at a 5x5 patch, which is why stacking small kernels is cheaper than one big kernel.",
    "The experiment with the shortcut convinced me: without the identity path the gradient of the first "
    "block was tiny, with it the early layers kept learning during the whole run.",
]


def source_of_copy(name: str, rng: random.Random, which: int) -> Student:
    """An honest student with more work of their own, which another student then copies."""
    student = honest(name, rng)
    nb = student.notebook
    first, second = OWN_WORK[which]
    item = re.match(r"def (\w+)", first).group(1)  # type: ignore[union-attr]
    cell = _item_cell(nb, item)
    assert cell is not None
    _set(cell, first)
    _cells(nb).insert(rng.randrange(12, len(_cells(nb))), _code_cell(second))
    extra = OWN_PROSE[which]
    _answer_all(
        nb,
        lambda section: (
            _answer(section, rng) + (" " + extra if section == SECTIONS[which * 2] else "")
        ),
    )
    return student


SYNONYMS = {
    "layers": "layer",
    "image": "picture",
    "because": "as",
    "small": "little",
    "also": "too",
}


def copy_of(original: Student, name: str, rng: random.Random) -> Student:
    """`original`'s notebook, disguised: identifiers renamed, reformatted, cells reordered, comments
    changed, and the prose edited a little."""
    nb = copy.deepcopy(original.notebook)
    mapping = {
        "kernel_rows": "kr", "kernel_cols": "kc", "view": "windows", "timed": "bench", "big": "A",
        "ker": "B", "padded": "src", "stacked": "candidates", "out_h": "H", "out_w": "W",
        "result": "res", "first": "c0", "kernel": "weights", "learning_rate": "eta",
        "history": "losses", "prediction": "pred", "fig": "figure", "img": "square", "kern": "k",
        "X": "inp", "K": "ker", "Y": "target",
    }  # fmt: skip
    for cell in _cells(nb):
        if cell["cell_type"] == "code":
            code = _strip_docstrings_and_comments(_rename(_source(cell), mapping))
            code = code.replace(", ", ",").replace("'", '"').replace(" + ", "+")
            code = re.sub(
                r"\(([^()\n]{30,})\)", lambda m: "(\n        " + m.group(1) + "\n    )", code
            )
            if rng.random() < 0.4:
                code = _comment(rng) + "\n" + code + "\n" + _comment(rng)
            _set(cell, code)
        elif not _source(cell).lstrip().startswith("#"):
            sentences = re.split(r"(?<=\.) ", _source(cell))
            rng.shuffle(sentences)
            text = " ".join(sentences)
            for old, new in SYNONYMS.items():
                text = re.sub(rf"\b{old}\b", new, text, count=1)
            _set(cell, text)
    cells = _cells(nb)
    for _ in range(4):
        i = rng.randrange(8, len(cells) - 1)
        cells[i], cells[i + 1] = cells[i + 1], cells[i]
    return Student(name, nb)


def write(students: list[Student], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for student in students:
        path = folder / f"{student.name}.ipynb"
        path.write_text(json.dumps(student.notebook, indent=1), encoding="utf-8")
        paths.append(path)
    return paths


def fixture_class(
    seed: int = 2026, honest_students: int = 40
) -> tuple[list[Student], list[tuple[str, str]]]:
    """An honest class with three copied pairs among it; the copied pairs by name."""
    rng = random.Random(seed)
    students = [honest(f"student{n:03d}", rng) for n in range(honest_students)]
    copied = []
    for which in range(len(OWN_WORK)):
        original = source_of_copy(f"author{which}", rng, which)
        students += [original, copy_of(original, f"copier{which}", rng)]
        copied.append((original.name, f"copier{which}"))
    rng.shuffle(students)
    return students, copied


def honest_class(size: int, seed: int = 7) -> list[Student]:
    rng = random.Random(seed)
    return [honest(f"student{n:04d}", rng) for n in range(size)]
