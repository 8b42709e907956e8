"""The d2l-compatible module: the book's API, headless training, Fashion-MNIST loading, synthetic data."""

import contextlib
import gzip
import io
import struct
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from d2lcompat import devices
from d2lcompat import torch as d2l
from reference import LeNet


class Recorder(d2l.HyperParameters):
    def __init__(self, a, b=2, _private=3, ignored=4):
        self.save_hyperparameters(ignore=["ignored"])


def test_save_hyperparameters_keeps_arguments_but_not_ignored_or_private_ones() -> None:
    r = Recorder(1)

    assert r.hparams == {"a": 1, "b": 2}
    assert (r.a, r.b) == (1, 2)
    assert not hasattr(r, "ignored")


def test_add_to_class_adds_a_method_and_returns_none_as_d2l_does() -> None:
    class A:
        pass

    @d2l.add_to_class(A)
    def double(self, x):
        return 2 * x

    assert double is None
    assert A().double(4) == 8


def test_progress_board_averages_every_n_points() -> None:
    board = d2l.ProgressBoard()

    for x in range(1, 5):
        board.draw(x, 10 * x, "train_loss", every_n=2)
    board.draw(1, 5, "val_acc", every_n=0)

    assert board.data == {"train_loss": [(1.5, 15.0), (3.5, 35.0)], "val_acc": [(1.0, 5.0)]}


def test_classifier_loss_and_accuracy() -> None:
    model = d2l.Classifier()
    Y_hat = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    Y = torch.tensor([0, 1, 1])

    assert float(model.accuracy(Y_hat, Y)) == pytest.approx(2 / 3)
    assert model.accuracy(Y_hat, Y, averaged=False).tolist() == [1.0, 1.0, 0.0]
    expected = nn.functional.cross_entropy(Y_hat, Y)
    assert float(model.loss(Y_hat, Y)) == pytest.approx(float(expected))
    assert model.loss(Y_hat, Y, averaged=False).shape == (3,)


def test_layer_summary_prints_one_line_per_layer() -> None:
    class Tiny(d2l.Classifier):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        Tiny().layer_summary((2, 2, 2))

    assert buf.getvalue() == (
        "Flatten output shape:\t torch.Size([2, 4])\nLinear output shape:\t torch.Size([2, 3])\n"
    )


def test_init_cnn_touches_only_linear_and_conv2d_weights() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    before = [p.detach().clone() for p in net.parameters()]

    net.apply(d2l.init_cnn)

    changed = [not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True)]
    # conv weight, conv bias, bn weight, bn bias, linear weight, linear bias
    assert changed == [True, False, False, False, True, False]


def synthetic(**kwargs) -> d2l.SyntheticFashionMNIST:
    with pytest.warns(d2l.SyntheticDataWarning, match="synthetic stand-in"):
        return d2l.SyntheticFashionMNIST(**kwargs)


def test_synthetic_data_has_fashion_mnist_shapes_and_is_deterministic() -> None:
    a = synthetic(batch_size=32, num_train=64, num_val=16)
    b = synthetic(batch_size=32, num_train=64, num_val=16)

    X, y = next(iter(a.get_dataloader(train=True)))
    X2, y2 = next(iter(b.get_dataloader(train=True)))

    assert X.shape == (32, 1, 28, 28)
    assert X.dtype == torch.float32
    assert y.dtype == torch.int64
    assert float(X.min()) >= 0.0
    assert float(X.max()) <= 1.0
    assert torch.equal(X, X2)
    assert torch.equal(y, y2)
    assert len(a.val) == 16
    assert set(y.tolist()) <= set(range(10))


def test_synthetic_data_resizes() -> None:
    data = synthetic(batch_size=4, resize=(96, 96), num_train=8, num_val=4)

    X, _ = next(iter(data.get_dataloader(train=False)))

    assert X.shape == (4, 1, 96, 96)


def test_synthetic_data_differs_between_seeds() -> None:
    X0, _ = d2l.synthetic_fashion_mnist(8, seed=0)
    X1, _ = d2l.synthetic_fashion_mnist(8, seed=1)

    assert not torch.equal(X0, X1)


class SmallCNN(d2l.Classifier):
    """A ReLU network small enough to learn the synthetic data in a few epochs on a CPU."""

    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.LazyConv2d(8, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.LazyConv2d(16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.LazyLinear(num_classes),
        )


def test_trainer_fits_a_cnn_on_synthetic_data_and_records_curves() -> None:
    torch.manual_seed(0)
    data = synthetic(batch_size=32, num_train=1024, num_val=256)
    model = SmallCNN(lr=0.1)
    model.apply_init([next(iter(data.get_dataloader(True)))[0]], d2l.init_cnn)
    trainer = d2l.Trainer(max_epochs=3, num_gpus=1)

    trainer.fit(model, data)

    curves = model.board.data
    assert set(curves) == {"train_loss", "val_loss", "val_acc"}
    assert len(curves["val_acc"]) == 3
    assert len(curves["train_loss"]) == 6  # plot_train_per_epoch = 2
    losses = [y for _, y in curves["train_loss"]]
    assert losses[-1] < 0.5 * losses[0]
    assert curves["val_acc"][-1][1] > 0.5
    assert curves["train_loss"][-1][0] == pytest.approx(3.0 - 0.25, abs=0.02)


def test_trainer_runs_the_homeworks_lenet_cell_headless() -> None:
    """In[37] with the synthetic stand-in: one epoch, curves recorded, nothing drawn."""
    torch.manual_seed(0)
    data = synthetic(batch_size=128, num_train=256, num_val=128)
    model = LeNet(lr=0.1)
    model.apply_init([next(iter(data.get_dataloader(True)))[0]], d2l.init_cnn)

    d2l.Trainer(max_epochs=1, num_gpus=1).fit(model, data)

    assert len(model.board.data["val_acc"]) == 1
    assert all(torch.isfinite(torch.tensor(y)) for _, y in model.board.data["train_loss"])


def test_trainer_clips_gradients_to_the_given_norm() -> None:
    model = d2l.Classifier()
    model.net = nn.Linear(3, 2)
    for p in model.parameters():
        p.grad = torch.full_like(p, 10.0)
    trainer = d2l.Trainer(max_epochs=1, gradient_clip_val=1.0)

    trainer.clip_gradients(1.0, model)

    norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in model.parameters()))
    assert float(norm) == pytest.approx(1.0, rel=1e-5)


def test_trainer_uses_a_gpu_only_when_one_is_present(monkeypatch) -> None:
    monkeypatch.setattr(devices, "num_gpus", lambda: 0)
    assert d2l.Trainer(max_epochs=1, num_gpus=1).gpus == []
    assert d2l.try_gpu() == torch.device("cpu")
    assert d2l.try_all_gpus() == [torch.device("cpu")]

    monkeypatch.setattr(devices, "num_gpus", lambda: 2)
    assert d2l.Trainer(max_epochs=1, num_gpus=1).gpus == [torch.device("cuda:0")]
    assert devices.try_gpu(1) == torch.device("cuda:1")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trainer_trains_on_the_gpu() -> None:
    data = synthetic(batch_size=64, num_train=256, num_val=64)
    model = LeNet(lr=0.9)
    model.apply_init([next(iter(data.get_dataloader(True)))[0]], d2l.init_cnn)
    trainer = d2l.Trainer(max_epochs=1, num_gpus=1)

    trainer.fit(model, data)

    assert next(model.parameters()).device.type == "cuda"


# Fashion-MNIST on disk


def write_idx(path: Path, array: torch.Tensor, *, packed: bool) -> None:
    magic = 0x0803 if array.dim() == 3 else 0x0801
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape)
    payload = header + array.to(torch.uint8).numpy().tobytes()
    if packed:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


def make_fashion_mnist(
    root: Path, *, packed: bool = False, n_train: int = 12, n_val: int = 5
) -> None:
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    for prefix, n in (("train", n_train), ("t10k", n_val)):
        images = torch.randint(0, 256, (n, 28, 28), generator=g)
        labels = torch.arange(n) % 10
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, packed=packed)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, packed=packed)


@pytest.mark.parametrize("packed", [False, True])
def test_fashion_mnist_reads_the_raw_files_from_the_given_root(
    tmp_path: Path, packed: bool
) -> None:
    make_fashion_mnist(tmp_path, packed=packed)

    data = d2l.FashionMNIST(batch_size=4, root=tmp_path)
    X, y = next(iter(data.get_dataloader(train=False)))

    assert (len(data.train), len(data.val)) == (12, 5)
    assert X.shape == (4, 1, 28, 28)
    assert y.tolist() == [0, 1, 2, 3]
    assert data.text_labels(y) == ["t-shirt", "trouser", "pullover", "dress"]


def test_fashion_mnist_resizes_and_reads_d2l_data_dir(tmp_path: Path, monkeypatch) -> None:
    make_fashion_mnist(tmp_path)
    monkeypatch.setenv("D2L_DATA_DIR", str(tmp_path))

    data = d2l.FashionMNIST(batch_size=2, resize=(32, 40))
    X, _ = next(iter(data.get_dataloader(train=True)))

    assert X.shape == (2, 1, 32, 40)


def test_missing_fashion_mnist_names_the_folder_and_the_files(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("D2L_DOWNLOAD", raising=False)
    monkeypatch.delenv("D2L_SYNTHETIC_DATA", raising=False)

    with pytest.raises(d2l.DatasetNotFoundError) as info:
        d2l.FashionMNIST(root=tmp_path)

    message = str(info.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message
    assert "t10k-labels-idx1-ubyte" in message
    assert "D2L_SYNTHETIC_DATA" in message


def test_synthetic_switch_replaces_fashion_mnist_with_a_warning(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("D2L_SYNTHETIC_DATA", "1")

    with pytest.warns(d2l.SyntheticDataWarning):
        data = d2l.FashionMNIST(batch_size=8, resize=(32, 32), root=tmp_path)
    X, y = next(iter(data.get_dataloader(train=True)))

    assert X.shape == (8, 1, 32, 32)
    assert y.shape == (8,)


def test_synthetic_data_is_never_silent() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d2l.SyntheticFashionMNIST(num_train=4, num_val=4)

    assert [w.category for w in caught] == [d2l.SyntheticDataWarning]
