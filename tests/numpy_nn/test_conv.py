"""Convolution functions, Conv2d and MaxPool2d: exact cases, handout formulas, torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from practica.numpy_nn import (
    Conv2d,
    MaxPool2d,
    batch_conv2d_full,
    batch_conv2d_valid,
    batch_filter2d,
    col2im,
    conv2d_full,
    conv2d_valid,
    filter2d,
    im2col,
)

A3 = np.arange(1.0, 10.0).reshape(3, 3)
K2 = np.array([[1.0, 2.0], [3.0, 4.0]])


def _valid_by_definition(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Handout formula, 1-based: Σ_{m=i}^{i+Hb−1} Σ_{n=j}^{j+Wb−1} a_mn b_{i−m+Hb, j−n+Wb}."""
    ha, wa = a.shape
    hb, wb = b.shape
    out = np.zeros((ha - hb + 1, wa - wb + 1))
    for i in range(1, ha - hb + 2):
        for j in range(1, wa - wb + 2):
            for m in range(i, i + hb):
                for n in range(j, j + wb):
                    out[i - 1, j - 1] += a[m - 1, n - 1] * b[i - m + hb - 1, j - n + wb - 1]
    return out


def _full_by_definition(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_{m=i−Hb+1}^{i} Σ_{n=j−Wb+1}^{j} a_mn b_{i−m+1, j−n+1}, a = 0 outside."""
    ha, wa = a.shape
    hb, wb = b.shape
    out = np.zeros((ha + hb - 1, wa + wb - 1))
    for i in range(1, ha + hb):
        for j in range(1, wa + wb):
            for m in range(i - hb + 1, i + 1):
                for n in range(j - wb + 1, j + 1):
                    if 1 <= m <= ha and 1 <= n <= wa:
                        out[i - 1, j - 1] += a[m - 1, n - 1] * b[i - m, j - n]
    return out


def _filter_by_definition(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_p Σ_q a_{i+p−1, j+q−1} b_pq."""
    hb, wb = b.shape
    out = np.zeros((a.shape[0] - hb + 1, a.shape[1] - wb + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(a[i : i + hb, j : j + wb] * b)
    return out


# --------------------------------------------------------------------------- 2-D functions


def test_full_convolution_of_two_2x2_is_the_exact_3x3() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[5.0, 6.0], [7.0, 8.0]])
    expected = np.array([[5.0, 16.0, 12.0], [22.0, 60.0, 40.0], [21.0, 52.0, 32.0]])
    np.testing.assert_array_equal(conv2d_full(a, b), expected)


def test_valid_convolution_flips_the_kernel() -> None:
    np.testing.assert_array_equal(conv2d_valid(A3, K2), [[23.0, 33.0], [53.0, 63.0]])


def test_filtering_does_not_flip_the_kernel() -> None:
    np.testing.assert_array_equal(filter2d(A3, K2), [[37.0, 47.0], [67.0, 77.0]])


@pytest.mark.parametrize(("ha", "wa", "hb", "wb"), [(5, 6, 3, 2), (4, 4, 4, 4), (3, 7, 1, 3)])
def test_functions_match_handout_index_formulas(ha: int, wa: int, hb: int, wb: int) -> None:
    rng = np.random.default_rng(ha * 100 + wa * 10 + hb)
    a, b = rng.standard_normal((ha, wa)), rng.standard_normal((hb, wb))
    np.testing.assert_allclose(conv2d_valid(a, b), _valid_by_definition(a, b), atol=1e-12)
    np.testing.assert_allclose(filter2d(a, b), _filter_by_definition(a, b), atol=1e-12)
    full = conv2d_full(a, b)
    assert full.shape == (ha + hb - 1, wa + wb - 1)
    np.testing.assert_allclose(full, _full_by_definition(a, b), atol=1e-12)


def test_batched_versions_broadcast_and_match_per_item_results() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 3, 6, 5))
    b = rng.standard_normal((3, 2, 3))
    for batched, single in (
        (batch_filter2d, filter2d),
        (batch_conv2d_valid, conv2d_valid),
        (batch_conv2d_full, conv2d_full),
    ):
        out = batched(a, b)  # (4, 3, ...) with b broadcast over the first axis
        for n in range(4):
            for c in range(3):
                np.testing.assert_allclose(out[n, c], single(a[n, c], b[c]), atol=1e-12)
    shared = batch_filter2d(a, b[0])
    np.testing.assert_allclose(shared[2, 1], filter2d(a[2, 1], b[0]), atol=1e-12)


def test_2d_functions_reject_other_ranks_and_oversized_kernels() -> None:
    with pytest.raises(ValueError, match=r"conv2d_full: expected two 2-D arrays.*\(2, 2, 2\)"):
        conv2d_full(np.ones((2, 2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="kernel .* larger than input"):
        filter2d(np.ones((2, 2)), np.ones((3, 3)))


def test_im2col_and_col2im_are_adjoint() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col(x, 3, 2, stride=2, padding=1)
    c = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, x.shape, 3, 2, stride=2, padding=1))
    assert lhs == pytest.approx(rhs, rel=1e-12)


# --------------------------------------------------------------------------- Conv2d


def _torch_conv(conv: Conv2d, x: np.ndarray, dout: np.ndarray):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(conv.params["weight"], requires_grad=True)
    bt = torch.tensor(conv.params["bias"], requires_grad=True) if "bias" in conv.params else None
    yt = F.conv2d(xt, wt, bt, stride=conv.stride, padding=conv.padding)
    yt.backward(torch.tensor(dout))
    return yt.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), (
        None if bt is None else bt.grad.numpy()
    )


@pytest.mark.parametrize(
    ("cin", "cout", "kernel", "stride", "padding", "bias", "hw"),
    [
        (3, 4, 3, 1, 0, True, (7, 7)),
        (3, 4, 3, 1, 1, True, (6, 8)),
        (2, 5, (3, 2), 2, 1, True, (9, 7)),
        (1, 2, 5, 3, 2, False, (10, 11)),
        (4, 3, 1, 1, 0, True, (4, 5)),
    ],
)
def test_conv2d_matches_torch_in_float64(cin, cout, kernel, stride, padding, bias, hw) -> None:
    rng = np.random.default_rng(3)
    conv = Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=bias, rng=0,
                  dtype=np.float64)
    if bias:
        conv.params["bias"][...] = rng.standard_normal(cout)
    x = rng.standard_normal((3, cin, *hw))
    y = conv.forward(x)
    dout = rng.standard_normal(y.shape)
    dx = conv.backward(dout)
    y_t, dx_t, dw_t, db_t = _torch_conv(conv, x, dout)
    np.testing.assert_allclose(y, y_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.grads["weight"], dw_t, rtol=1e-12, atol=1e-12)
    if bias:
        np.testing.assert_allclose(conv.grads["bias"], db_t, rtol=1e-12, atol=1e-12)
    else:
        assert set(conv.params) == {"weight"}


def test_conv2d_gradients_equal_the_handout_full_convolution_and_filtering() -> None:
    """dL/dX_nc = Σ_f W_fc ∗_full dY_nf and dL/dW_fc = Σ_n X_nc ⋆_filt dY_nf."""
    rng = np.random.default_rng(4)
    conv = Conv2d(2, 3, 3, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 2, 6, 5))
    dout = rng.standard_normal(conv.forward(x).shape)
    dx = conv.backward(dout)
    w = conv.params["weight"]  # (F, C, kh, kw)
    # Broadcast to (N, F, C, ...) and sum over f (for dX) or n (for dW).
    dx_handout = batch_conv2d_full(dout[:, :, None], w[None]).sum(axis=1)
    dw_handout = batch_filter2d(x[:, None], dout[:, :, None]).sum(axis=0)
    np.testing.assert_allclose(dx, dx_handout, atol=1e-12)
    np.testing.assert_allclose(conv.grads["weight"], dw_handout, atol=1e-12)
    y_handout = batch_filter2d(x[:, None], w[None]).sum(axis=2)  # Σ_c X_nc ⋆ W_fc
    np.testing.assert_allclose(conv.forward(x), y_handout + conv.params["bias"][:, None, None])


def test_conv2d_float32_stays_float32_and_skips_input_grad_when_asked() -> None:
    conv = Conv2d(3, 4, 3, padding=1, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5))  # float64 input
    y = conv.forward(x)
    assert y.dtype == np.float32 and conv.params["weight"].dtype == np.float32
    conv.requires_input_grad = False
    assert conv.backward(np.ones_like(y)) is None
    np.testing.assert_allclose(conv.grads["bias"], np.full(4, 50.0))


def test_conv2d_rejects_bad_shapes_with_clear_messages() -> None:
    conv = Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv2d: expected input of shape \(N, 3, H, W\), "
                                         r"got \(2, 1, 8, 8\)"):
        conv.forward(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"Conv2d: expected input of shape .*got \(3, 8, 8\)"):
        conv.forward(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        conv.forward(np.zeros((1, 3, 2, 2)))
    conv.forward(np.zeros((1, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"Conv2d.backward: expected gradient of shape "
                                         r"\(1, 4, 3, 3\), got \(1, 4, 5, 5\)"):
        conv.backward(np.zeros((1, 4, 5, 5)))
    with pytest.raises(RuntimeError, match="before forward"):
        Conv2d(1, 1, 1).backward(np.zeros((1, 1, 1, 1)))


# --------------------------------------------------------------------------- MaxPool2d


@pytest.mark.parametrize(("k", "s", "hw"), [(2, None, (6, 8)), (2, None, (7, 5)),
                                             (3, 2, (7, 7)), (3, 1, (5, 6))])
def test_maxpool_matches_torch_in_float64(k: int, s: int | None, hw: tuple[int, int]) -> None:
    rng = np.random.default_rng(5)
    pool = MaxPool2d(k, s, dtype=np.float64)
    x = rng.standard_normal((2, 3, *hw))
    y = pool.forward(x)
    dout = rng.standard_normal(y.shape)
    dx = pool.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.max_pool2d(xt, k, s)
    yt.backward(torch.tensor(dout))
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-15)


def test_maxpool_exact_values_and_tie_routes_to_one_element() -> None:
    x = np.array([[[[1.0, 3.0, 2.0, 2.0],
                    [4.0, 0.0, 2.0, 2.0]]]])
    pool = MaxPool2d(2)
    np.testing.assert_array_equal(pool.forward(x), [[[[4.0, 2.0]]]])
    dx = pool.backward(np.array([[[[10.0, 7.0]]]]))
    # First window: the max 4 gets it. Second window: four-way tie, exactly one element
    # (the first in row-major order) receives the whole gradient.
    np.testing.assert_array_equal(dx, [[[[0.0, 0.0, 7.0, 0.0], [10.0, 0.0, 0.0, 0.0]]]])


def test_maxpool_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"MaxPool2d: expected input of shape \(N, C, H, W\), "
                                         r"got \(4, 4\)"):
        MaxPool2d(2).forward(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="smaller than window"):
        MaxPool2d(3).forward(np.zeros((1, 1, 2, 5)))
