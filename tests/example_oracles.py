"""The chapter's code, by hand, as oracles of the shipped examples (tests/test_examples.py): each
runs after torch.manual_seed(run.seed) and returns the values and gradients it computes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Expected:
    """What the chapter's code computes: values and gradients by node id."""

    values: dict[str, torch.Tensor]
    grads: dict[str, torch.Tensor] = field(default_factory=dict)
    no_grad: tuple[str, ...] = ()  # nodes that must get no gradient
    # The tensors backward started from (run.output, each grad node's outputs, a create_graph
    # derivative), their graphs kept for tests/test_backward_graph.py to walk.
    roots: tuple[torch.Tensor, ...] = ()


ORACLES: dict[str, Callable[[int], Expected]] = {}


def oracle(name: str) -> Callable[[Callable[[int], Expected]], Callable[[int], Expected]]:
    def register(fn: Callable[[int], Expected]) -> Callable[[int], Expected]:
        def run(seed: int) -> Expected:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                return fn(seed)

        ORACLES[name] = run
        return fn

    return register


def d(t: torch.Tensor) -> torch.Tensor:
    return t.detach().clone()


def g(t: torch.Tensor) -> torch.Tensor:
    assert t.grad is not None
    return t.grad.detach().clone()


# --------------------------------------------------------------------------------------------
# Oracles: the chapter's code, by hand. Each runs after torch.manual_seed(run.seed).


@oracle("dag_4_1")
def _dag_4_1(seed: int) -> Expected:
    w1 = torch.rand(5, 5).requires_grad_()
    w2 = torch.rand(5, 5).requires_grad_()
    x = torch.empty(5).normal_()
    x0 = x
    x1 = w1 @ x0
    x2 = x0 + w2 @ x1
    s = x1 + x2
    x3 = w1 @ s
    q = x3.norm()
    for t in (x1, x2, s, x3):
        t.retain_grad()
    q.backward()
    return Expected(
        roots=(q,),
        values={
            "w1": d(w1),
            "w2": d(w2),
            "x": d(x),
            "x1": d(x1),
            "x2": d(x2),
            "x1_plus_x2": d(s),
            "x3": d(x3),
            "q": d(q),
        },
        grads={"w1": g(w1), "w2": g(w2), "x1": g(x1), "x2": g(x2), "x1_plus_x2": g(s), "x3": g(x3)},
        no_grad=("x",),
    )


@oracle("autograd_grad")
def _autograd_grad(seed: int) -> Expected:
    t = torch.tensor([1.0, 2.0, 4.0]).requires_grad_()
    u = torch.tensor([10.0, 20.0]).requires_grad_()
    a = t.pow(2).sum() + u.log().sum()
    gt, gu = torch.autograd.grad(a, (t, u), retain_graph=True)
    a.backward()
    return Expected(
        roots=(a,), values={"t": d(t), "u": d(u), "a": d(a), "grad_t": gt, "grad_u": gu}, grads={"t": g(t), "u": g(u)}
    )


@oracle("pow3_backward")
def _pow3_backward(seed: int) -> Expected:
    x = torch.tensor([-3.0, 2.0, 5.0]).requires_grad_()
    u = x.pow(3).sum()
    assert x.grad is None
    u.backward()
    return Expected(roots=(u,), values={"x": d(x), "u": d(u)}, grads={"x": g(x)})


@oracle("requires_grad_propagation")
def _requires_grad(seed: int) -> Expected:
    x = torch.tensor([1.0, 2.0])
    y = torch.tensor([4.0, 5.0])
    z = torch.tensor([7.0, 3.0])
    z.requires_grad = True
    xz = x + z
    xz.backward(torch.ones_like(xz))
    return Expected(
        roots=(xz,),
        values={"x": x, "y": y, "z": d(z), "x_plus_y": x + y, "x_plus_z": d(xz)},
        grads={"z": g(z)},
        no_grad=("x", "y", "x_plus_y"),
    )


@oracle("tanh_net")
def _tanh_net(seed: int) -> Expected:
    w1 = torch.rand(20, 10).requires_grad_()
    b1 = torch.rand(20).requires_grad_()
    w2 = torch.rand(5, 20).requires_grad_()
    b2 = torch.rand(5).requires_grad_()
    x = torch.rand(10)
    h = torch.tanh(w1 @ x + b1)
    y = torch.tanh(w2 @ h + b2)
    target = torch.rand(5)
    loss = (y - target).pow(2).mean()
    h.retain_grad()
    y.retain_grad()
    loss.backward()
    return Expected(
        roots=(loss,),
        values={
            "w1": d(w1),
            "b1": d(b1),
            "w2": d(w2),
            "b2": d(b2),
            "x": x,
            "h": d(h),
            "y": d(y),
            "target": target,
            "loss": d(loss),
        },
        grads={"w1": g(w1), "b1": g(b1), "w2": g(w2), "b2": g(b2), "h": g(h), "y": g(y)},
        no_grad=("x", "target"),
    )


@oracle("weight_sharing_blah")
def _blah(seed: int) -> Expected:
    w = torch.rand(3, 10, 10).requires_grad_()
    picked: list[torch.Tensor] = []  # each w[i] that blah indexes, kept to read its gradient

    def blah(k: int, x: torch.Tensor) -> torch.Tensor:
        for i in range(k):
            wi = w[i]
            wi.retain_grad()
            picked.append(wi)
            x = torch.tanh(wi @ x)
        return x

    x_u = torch.rand(10)
    u = blah(1, x_u)
    x_v = torch.rand(10)
    v = blah(3, x_v)
    q = u.dot(v)
    q.backward()
    ids = ("u_w0", "v_w0", "v_w1", "v_w2")  # the graph's four index nodes, in blah's order
    return Expected(
        roots=(q,),
        values={"w": d(w), "x_u": x_u, "x_v": x_v, "u": d(u), "v": d(v), "q": d(q)}
        | {nid: d(t) for nid, t in zip(ids, picked, strict=True)},
        grads={"w": g(w)} | {nid: g(t) for nid, t in zip(ids, picked, strict=True)},
        no_grad=("x_u", "x_v"),
    )


@oracle("blah_detach")
def _blah_detach(seed: int) -> Expected:
    w = torch.rand(3, 10, 10).requires_grad_()

    def blah(k: int, x: torch.Tensor) -> torch.Tensor:
        for i in range(k):
            x = torch.tanh(w[i] @ x)
        return x

    x_u = torch.rand(10)
    u = blah(1, x_u)
    x_v = torch.rand(10)
    v = blah(3, x_v)
    q = u.dot(v.detach())
    q.backward()
    assert g(w)[1:].abs().max() == 0  # no gradient came back through v
    return Expected(
        roots=(q,),
        values={"w": d(w), "x_u": x_u, "x_v": x_v, "u": d(u), "v": d(v), "v_detached": d(v), "q": d(q)},
        grads={"w": g(w)},
        no_grad=("x_u", "x_v", "v_detached", "v", "v_w1", "v_w2"),
    )


@oracle("relu")
def _relu(seed: int) -> Expected:
    x = torch.tensor([0.8008, -0.2586, 0.5019, -0.2002, -0.7416]).requires_grad_()
    y = F.relu(x)
    y.sum().backward()
    return Expected(roots=(y,), values={"x": d(x), "relu": d(y)}, grads={"x": g(x)})


@oracle("mse_loss")
def _mse(seed: int) -> Expected:
    f = nn.MSELoss()
    xa = torch.tensor([[3.0]]).requires_grad_()
    ya = torch.tensor([[0.0]])
    la = f(xa, ya)
    xb = torch.tensor([[3.0, 0.0, 0.0, 0.0]]).requires_grad_()
    yb = torch.tensor([[0.0, 0.0, 0.0, 0.0]])
    lb = f(xb, yb)
    total = la + lb
    total.backward()
    return Expected(
        roots=(total,),
        values={"x_a": d(xa), "y_a": ya, "loss_a": d(la), "x_b": d(xb), "y_b": yb, "loss_b": d(lb), "total": d(total)},
        grads={"x_a": g(xa), "x_b": g(xb)},
        no_grad=("y_a", "y_b"),
    )


@oracle("conv2d_shapes")
def _conv2d_shapes(seed: int) -> Expected:
    weight = torch.empty(5, 4, 2, 3).normal_()
    bias = torch.empty(5).normal_()
    input1 = torch.empty(117, 4, 10, 13).normal_()
    weight.requires_grad_()  # the graph makes them parameters to show their gradients
    bias.requires_grad_()
    output = F.conv2d(input1, weight, bias)
    output.sum().backward()
    return Expected(
        roots=(output,),
        values={"weight": d(weight), "bias": d(bias), "input1": input1, "output": d(output)},
        grads={"weight": g(weight), "bias": g(bias)},
        no_grad=("input1",),
    )


@oracle("conv2d_dilation")
def _conv2d_dilation(seed: int) -> Expected:
    x = torch.empty(1, 1, 20, 30).normal_()
    layer = nn.Conv2d(1, 1, kernel_size=3, dilation=4)
    y = layer(x)
    y.sum().backward()
    return Expected(
        roots=(y,),
        values={"x": x, "weight": d(layer.weight), "bias": d(layer.bias), "output": d(y)},
        grads={"weight": g(layer.weight), "bias": g(layer.bias)},
        no_grad=("x",),
    )


POOL_X = [
    [
        [[1.0, 1.0, 0.0, 2.0, 1.0, 1.0], [2.0, 2.0, 2.0, 0.0, 2.0, 1.0]],
        [[1.0, 1.0, 0.0, 0.0, 2.0, 1.0], [0.0, 2.0, 0.0, 2.0, 1.0, 0.0]],
    ]
]


@oracle("max_pool2d")
def _max_pool2d(seed: int) -> Expected:
    x = torch.tensor(POOL_X).requires_grad_()  # the chapter's x = torch.empty(1,2,2,6).random_(3), as printed
    y = F.max_pool2d(x, (1, 2))
    y.backward(torch.ones_like(y))
    return Expected(roots=(y,), values={"x": d(x), "pooled": d(y)}, grads={"x": g(x)})


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.fc1 = nn.Linear(256, 200)
        self.fc2 = nn.Linear(200, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=3, stride=3))
        x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2, stride=2))
        x = x.view(-1, 256)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return x  # noqa: RET504  (the chapter's code, as written)


NET_TARGETS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]


@oracle("conv_net")
def _conv_net(seed: int) -> Expected:
    model = Net()
    input1 = torch.empty(12, 1, 28, 28).normal_()
    output = model(input1)
    target = torch.tensor(NET_TARGETS)
    loss = F.cross_entropy(output, target)
    output.retain_grad()
    loss.backward()
    params = {name.replace(".", "_"): p for name, p in model.named_parameters()}
    return Expected(
        roots=(loss,),
        values={
            **{k: d(p) for k, p in params.items()},
            "input1": input1,
            "output": d(output),
            "target": target,
            "loss": d(loss),
        },
        grads={**{k: g(p) for k, p in params.items()}, "output": g(output)},
        no_grad=("input1", "target"),
    )


class DigitsNet(nn.Module):
    """The Net made for scikit-learn's 8x8 digits (examples/conv_net_digits.json)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
        self.fc1 = nn.Linear(64, 200)
        self.fc2 = nn.Linear(200, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=2))
        x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2))
        x = x.view(-1, 64)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def digits_batch(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first n digits as the example's code reads them: [n, 1, 8, 8] in [0, 1], and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images[:n] / 16, dtype=torch.float32).view(n, 1, 8, 8)
    return images, torch.tensor(digits.target[:n])


@oracle("conv_net_digits")
def _conv_net_digits(seed: int) -> Expected:
    return _digits_net(12)


@oracle("train_digits_net")
def _train_digits_net(seed: int) -> Expected:
    """Its state before training: the same Net on the first 64 digits."""
    return _digits_net(64)


def _digits_net(n: int) -> Expected:
    input1, target = digits_batch(n)
    model = DigitsNet()
    c1 = model.conv1(input1)
    c1.retain_grad()
    output = model.fc2(
        F.relu(model.fc1(F.relu(F.max_pool2d(model.conv2(F.relu(F.max_pool2d(c1, 2))), 2)).view(-1, 64)))
    )
    loss = F.cross_entropy(output, target)
    loss.backward()
    params = {name.replace(".", "_"): p for name, p in model.named_parameters()}
    return Expected(
        roots=(loss,),
        values={
            **{k: d(p) for k, p in params.items()},
            "input1": input1,
            "c1": d(c1),
            "output": d(model(input1)),
            "target": target,
            "loss": d(loss),
        },
        grads={**{k: g(p) for k, p in params.items()}, "c1": g(c1)},
        no_grad=("input1", "target"),
    )


@oracle("sequential_mlp")
def _sequential_mlp(seed: int) -> Expected:
    model = nn.Sequential(nn.Linear(10, 100), nn.ReLU(), nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 2))
    x = torch.empty(4, 10).normal_()
    target = torch.empty(4, 2).normal_()
    y = model(x)
    loss = F.mse_loss(y, target)
    loss.backward()
    params: dict[str, torch.Tensor] = {}
    for i, layer in enumerate((model[0], model[2], model[4]), start=1):
        assert isinstance(layer, nn.Linear)
        params[f"fc{i}_weight"], params[f"fc{i}_bias"] = layer.weight, layer.bias
    return Expected(
        roots=(loss,),
        values={**{k: d(p) for k, p in params.items()}, "x": x, "target": target, "y": d(y), "loss": d(loss)},
        grads={k: g(p) for k, p in params.items()},
        no_grad=("x", "target"),
    )


@oracle("conv1d")
def _conv1d(seed: int) -> Expected:
    x = torch.tensor([[[1.0, 2.0, 3.0, 4.0]]]).requires_grad_()
    u = torch.tensor([[[3.0, 2.0]]]).requires_grad_()
    y = F.conv1d(x, u)
    y.backward(torch.ones_like(y))
    return Expected(roots=(y,), values={"x": d(x), "u": d(u), "y": d(y)}, grads={"x": g(x), "u": g(u)})


@oracle("detach")
def _detach(seed: int) -> Expected:
    a = torch.tensor(0.5).requires_grad_()
    b = torch.tensor(-0.5).requires_grad_()
    l = (a - 1) ** 2 + (b + 1) ** 2 + (a.detach() - b) ** 2  # noqa: E741  (the chapter's name)
    l.backward()  # the graph's run.output: backward, as dagrad runs it (the chapter's autograd.grad gives the same)
    return Expected(
        roots=(l,),
        values={"a": d(a), "b": d(b), "l": d(l)},
        grads={"a": g(a), "b": g(b)},
        no_grad=("one", "a_detached"),
    )


@oracle("train_descent_detach")
def _train_descent_detach(seed: int) -> Expected:
    """Its state before training: the detach example's (the loop's first step)."""
    return _detach(seed)


@oracle("train_descent")
def _train_descent(seed: int) -> Expected:
    a = torch.tensor(0.5).requires_grad_()
    b = torch.tensor(-0.5).requires_grad_()
    l = (a - 1) ** 2 + (b + 1) ** 2 + (a - b) ** 2  # noqa: E741  (the chapter's name)
    l.backward()
    return Expected(
        roots=(l,), values={"a": d(a), "b": d(b), "l": d(l)}, grads={"a": g(a), "b": g(b)}, no_grad=("one",)
    )


def tanh_mlp(sizes: list[int], seed: int) -> nn.Sequential:
    """A gallery MLP as its document draws it (Linear, Tanh, ..., Linear): each parameter
    uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) in document order after torch.manual_seed(seed)."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), nn.Tanh()]
    layers = layers[:-1]
    torch.manual_seed(seed)  # after the constructors' own draws: the document's are the uniform_ below
    with torch.no_grad():
        for layer in layers[::2]:
            assert isinstance(layer, nn.Linear)
            k = layer.in_features**-0.5
            layer.weight.uniform_(-k, k)
            layer.bias.uniform_(-k, k)
    return nn.Sequential(*layers)


def moons_mlp(seed: int) -> nn.Sequential:
    """The moons example's MLP, 2 -> 16 -> 16 -> 2."""
    return tanh_mlp([2, 16, 16, 2], seed)


def sine_mlp(seed: int) -> nn.Sequential:
    """The sine example's MLP, 1 -> 32 -> 32 -> 1."""
    return tanh_mlp([1, 32, 32, 1], seed)


def mlp_parameters(model: nn.Sequential) -> dict[str, torch.Tensor]:
    """The MLP's parameters by the gallery's node ids: fc1_weight, fc1_bias, fc2_weight, ..."""
    params: dict[str, torch.Tensor] = {}
    for i, layer in enumerate(model[::2], start=1):
        assert isinstance(layer, nn.Linear)
        params[f"fc{i}_weight"], params[f"fc{i}_bias"] = layer.weight, layer.bias
    return params


def _mlp_on_zeros(
    model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, out: str, loss_fn: Callable[..., torch.Tensor]
) -> Expected:
    """A gallery MLP's state before training: on zeros (its data nodes are fed a batch when it
    trains), its loss against zero targets, backward done."""
    prediction = model(x)
    loss = loss_fn(prediction, y)
    loss.backward()
    params = mlp_parameters(model)
    return Expected(
        roots=(loss,),
        values={**{k: d(p) for k, p in params.items()}, "x": x, "y": y, out: d(prediction), "loss": d(loss)},
        grads={k: g(p) for k, p in params.items()},
        no_grad=("x", "y"),
    )


@oracle("train_moons_mlp")
def _train_moons_mlp(seed: int) -> Expected:
    return _mlp_on_zeros(moons_mlp(seed), torch.zeros(32, 2), torch.zeros(32, dtype=torch.int64), "logits",
                         F.cross_entropy)  # fmt: skip


@oracle("train_sine_mlp")
def _train_sine_mlp(seed: int) -> Expected:
    return _mlp_on_zeros(sine_mlp(seed), torch.zeros(32, 1), torch.zeros(32, 1), "prediction", F.mse_loss)


@oracle("second_derivative")
def _second_derivative(seed: int) -> Expected:
    x = torch.tensor([1.0, 2.0, 3.0]).requires_grad_()
    y = x.pow(3).sum()
    (gx,) = torch.autograd.grad(y, x, create_graph=True)
    s = gx.sum()
    s.backward()
    return Expected(roots=(s, y, gx), values={"x": d(x), "y": d(y), "g": d(gx)}, grads={"x": g(x)})


@oracle("x3_second_derivative")
def _x3_second(seed: int) -> Expected:
    x = torch.tensor(2.0).requires_grad_()
    y = x**3
    (g1,) = torch.autograd.grad(y, x, create_graph=True)
    (g2,) = torch.autograd.grad(g1, x, retain_graph=True)
    assert (g1.item(), g2.item()) == (12.0, 12.0)  # 3x², 6x at 2
    return Expected(roots=(y, g1), values={"x": d(x), "y": d(y), "g": d(g1), "g2": g2})


@oracle("tanh_second_derivative")
def _tanh_second(seed: int) -> Expected:
    x = torch.tensor([-2.0, -1.0, 0.0, 0.5, 2.0]).requires_grad_()
    t = torch.tanh(x)
    t_sum = t.sum()
    (d1,) = torch.autograd.grad(t_sum, x, create_graph=True)
    d1_sum = d1.sum()
    (d2,) = torch.autograd.grad(d1_sum, x, retain_graph=True)
    th = torch.tanh(x.detach())
    torch.testing.assert_close(d2, -2 * th * (1 - th**2))  # the calculus, as a check of the oracle
    return Expected(
        roots=(t_sum, d1, d1_sum), values={"x": d(x), "t": d(t), "d1": d(d1), "d1_sum": d(d1_sum), "d2": d2}
    )


@oracle("hessian_vector_product")
def _hvp(seed: int) -> Expected:
    w = torch.tensor([1.0, 2.0, 3.0]).requires_grad_()
    a = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 2.0]])
    v = torch.tensor([1.0, 0.0, 1.0])
    f = w.dot(a @ w)
    (g1,) = torch.autograd.grad(f, w, create_graph=True)
    gv = g1.dot(v)
    (hv,) = torch.autograd.grad(gv, w, retain_graph=True)
    torch.testing.assert_close(hv, (a + a.T) @ v)
    return Expected(roots=(f, g1, gv), values={"w": d(w), "f": d(f), "g": d(g1), "gv": d(gv), "Hv": hv})


@oracle("siamese")
def _siamese(seed: int) -> Expected:
    w1 = torch.empty(16, 8).normal_(0, 0.5).requires_grad_()
    b1 = torch.empty(16).normal_(0, 0.1).requires_grad_()
    w2 = torch.empty(4, 16).normal_(0, 0.5).requires_grad_()

    def tower(x: torch.Tensor) -> torch.Tensor:
        return F.linear(torch.tanh(F.linear(x, w1, b1)), w2)

    xa, xb = torch.empty(8).normal_(), torch.empty(8).normal_()
    za, zb = tower(xa), tower(xb)
    dist = (za - zb).norm()
    loss = dist**2
    loss.backward()
    return Expected(
        roots=(loss,),
        values={"xa": xa, "xb": xb, "za": d(za), "zb": d(zb), "dist": d(dist), "loss": d(loss)},
        grads={"w1": g(w1), "b1": g(b1), "w2": g(w2)},
        no_grad=("xa", "xb"),
    )


@oracle("sigmoid_inplace_relu")
def _sigmoid_inplace_relu(seed: int) -> Expected:
    x = torch.tensor([-1.0, 0.5, 2.0]).requires_grad_()
    s = torch.sigmoid(x)
    r = torch.relu(s)  # as shipped: inplace off
    loss = r.sum()
    loss.backward()
    return Expected(roots=(loss,), values={"x": d(x), "s": d(s), "r": d(r), "loss": d(loss)}, grads={"x": g(x)})


@oracle("detach_side_by_side")
def _detach_side_by_side(seed: int) -> Expected:
    a = torch.tensor(0.5).requires_grad_()
    b = torch.tensor(-0.5).requires_grad_()
    l = (a - 1) ** 2 + (b + 1) ** 2 + (a - b) ** 2  # noqa: E741  (the chapter's name)
    l_detached = (a - 1) ** 2 + (b + 1) ** 2 + (a.detach() - b) ** 2
    dl_da, dl_db = torch.autograd.grad(l, (a, b), retain_graph=True)
    dld_da, dld_db = torch.autograd.grad(l_detached, (a, b), retain_graph=True)
    assert (dl_da.item(), dld_da.item()) == (1.0, -1.0)
    return Expected(
        roots=(l, l_detached),
        values={
            "l": d(l),
            "l_detached": d(l_detached),
            "dl_da": dl_da,
            "dl_db": dl_db,
            "dld_da": dld_da,
            "dld_db": dld_db,
        },
    )


@oracle("linear_batch")
def _linear_batch(seed: int) -> Expected:
    f = nn.Linear(in_features=10, out_features=4)
    x = torch.empty(523, 10).normal_()
    y = f(x)
    y.sum().backward()
    return Expected(
        roots=(y,),
        values={"weight": d(f.weight), "bias": d(f.bias), "x": x, "y": d(y)},
        grads={"weight": g(f.weight), "bias": g(f.bias)},
        no_grad=("x",),
    )
