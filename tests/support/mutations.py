"""The known mistakes of the homework, seeded into the reference solution one at a time.

Each mutation replaces text in the solved notebook (built from `reference/`) and says which item it
breaks and which words the feedback must contain to name the mistake.
"""

import json
from dataclasses import dataclass
from pathlib import Path

SOLVED = Path(__file__).resolve().parents[2] / "submissions" / "solved.ipynb"


@dataclass(frozen=True)
class Mutation:
    item: str
    old: str
    new: str
    named: str


MUTATIONS = {
    "corr2d_output_off_by_one": Mutation(
        "corr2d", "X.shape[0] - h + 1, X.shape[1] - w + 1", "X.shape[0] - h, X.shape[1] - w", "output size off by one"
    ),
    "corr2d_kernel_transposed": Mutation(
        "corr2d", "    h, w = K.shape\n    Y = torch.zeros((X.shape[0] - h + 1",
        "    K = K.t()\n    h, w = K.shape\n    Y = torch.zeros((X.shape[0] - h + 1", "kernel transposed",
    ),
    "corr2d_kernel_flipped": Mutation(
        "corr2d", "    h, w = K.shape\n    Y = torch.zeros((X.shape[0] - h + 1",
        "    K = K.flip(0, 1)\n    h, w = K.shape\n    Y = torch.zeros((X.shape[0] - h + 1", "kernel flipped",
    ),
    "corr2d_square_only": Mutation(
        "corr2d", "    h, w = K.shape\n    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))",
        "    h = w = K.shape[0]\n    Y = torch.zeros((X.shape[0] - h + 1, X.shape[0] - h + 1))",
        "works only on square inputs",
    ),
    "pool2d_average_as_sum": Mutation("pool2d", ".mean()", ".sum()", "average computed as a sum"),
    "pool2d_mode_ignored": Mutation("pool2d", 'if mode == "max":', "if True:", "`mode` ignored"),
    "multi_in_first_channel_only": Mutation(
        "corr2d_multi_in", "return sum(corr2d(x, k) for x, k in zip(X, K))", "return corr2d(X[0], K[0])",
        "only the first channel used",
    ),
    "multi_in_out_cat_not_stack": Mutation(
        "corr2d_multi_in_out", "torch.stack([corr2d_multi_in(X, k) for k in K], 0)",
        "torch.cat([corr2d_multi_in(X, k) for k in K], 0)", "`cat` instead of `stack`",
    ),
    "one_by_one_wrong_reshape": Mutation(
        "corr2d_multi_in_out_1x1",
        "    X = X.reshape((c_i, h * w))\n    K = K.reshape((c_o, c_i))\n    Y = torch.matmul(K, X)",
        "    X = X.reshape((h * w, c_i))\n    K = K.reshape((c_i, c_o))\n    Y = torch.matmul(X, K)",
        "wrong reshape",
    ),
    "lenet_wrong_activation": Mutation("LeNet", "nn.Sigmoid()", "nn.ReLU()", "wrong activation"),
    "lenet_wrong_pooling": Mutation(
        "LeNet", "nn.AvgPool2d(kernel_size=2, stride=2)", "nn.MaxPool2d(kernel_size=2, stride=2)", "wrong pooling"
    ),
    "lenet_missing_padding": Mutation(
        "LeNet", "nn.LazyConv2d(6, kernel_size=5, padding=2)", "nn.LazyConv2d(6, kernel_size=5)", "missing padding"
    ),
    "vgg_missing_dropout": Mutation("VGG", "            nn.Dropout(0.5),\n", "", "missing Dropout"),
    "residual_shortcut_not_projected": Mutation(
        "Residual", "self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)", "self.conv3 = None",
        "shortcut not projected",
    ),
    "residual_missing_batch_norm": Mutation(
        "Residual", "        Y = self.bn2(self.conv2(Y))", "        Y = self.conv2(Y)", "missing batch norm"
    ),
    "residual_projection_without_stride": Mutation(
        "Residual", "self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)",
        "self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1)", "1x1 projection without stride",
    ),
    "residual_final_relu_missing": Mutation(
        "Residual", "        Y += X\n        return F.relu(Y)", "        Y += X\n        return Y", "final ReLU missing"
    ),
    "resnet_first_stage_downsamples": Mutation(
        "ResNet", "if i == 0 and not first_block:", "if i == 0:", "first stage downsampling"
    ),
    "resnet18_wrong_stages": Mutation(
        "ResNet18", "RESNET18 = ((2, 64), (2, 128), (2, 256), (2, 512))", "RESNET18 = ((2, 64), (2, 128), (2, 256))",
        "wrong ResNet18 stages",
    ),
}  # fmt: skip


def mutated_notebook(mutation: Mutation) -> str:
    """The solved notebook's JSON with the mutation applied (every occurrence, which must exist)."""
    notebook = json.loads(SOLVED.read_text(encoding="utf-8"))
    hits = 0
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if mutation.old in source:
            hits += source.count(mutation.old)
            cell["source"] = source.replace(mutation.old, mutation.new)
    assert hits, f"the mutation's text is not in the solved notebook: {mutation.old!r}"
    return json.dumps(notebook)
