"""Convolution and pooling (EECS545 HW4 §1c, §3a).

Three 2-D operations from the handout (indices from 1, a ∈ R^{Ha×Wa}, b ∈ R^{Hb×Wb}):

* filtering (correlation, no flip):  (a ⋆_filt b)_ij = Σ_pq a_{i+p−1, j+q−1} b_pq,
  output (Ha−Hb+1)×(Wa−Wb+1);
* valid convolution: a ∗_valid b = a ⋆_filt flip(b) (b rotated by 180°);
* full convolution: a ∗_full b = pad(a, Hb−1, Wb−1) ∗_valid b, output
  (Ha+Hb−1)×(Wa+Wb−1).

A convolution layer in deep learning is a *filtering*: Y_nf = Σ_c X_nc ⋆_filt W_fc + b_f.
Its gradients (stride 1, no padding) are dL/dX_nc = Σ_f W_fc ∗_full dL/dY_nf and
dL/dW_fc = Σ_n X_nc ⋆_filt dL/dY_nf. ``Conv2d`` computes the same quantities with im2col:
all receptive fields become the columns of a matrix (a strided *view* from
``sliding_window_view`` plus one copy), so forward and both gradients are matrix products,
and col2im scatters the column gradients back with one vectorised add per kernel offset.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import DTypeLike

from .base import Module, as_generator, check_shape
from .init import Init, init_weight

# --------------------------------------------------------------------------- 2-D functions


def _check_2d(name: str, a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"{name}: expected two 2-D arrays, got shapes {a.shape} and {b.shape}")


def _check_batched(name: str, a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(
            f"{name}: expected arrays of shape (..., H, W), got {a.shape} and {b.shape}"
        )


def batch_filter2d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Filtering (correlation) over the last two axes, leading axes broadcast.

    a: (..., Ha, Wa), b: (..., Hb, Wb) with Hb ≤ Ha, Wb ≤ Wa -> (..., Ha−Hb+1, Wa−Wb+1).
    """
    a, b = np.asarray(a), np.asarray(b)
    _check_batched("batch_filter2d", a, b)
    hb, wb = b.shape[-2:]
    if hb > a.shape[-2] or wb > a.shape[-1]:
        raise ValueError(
            f"batch_filter2d: kernel {b.shape[-2:]} larger than input {a.shape[-2:]}"
        )
    win = sliding_window_view(a, (hb, wb), axis=(-2, -1))  # (..., Ho, Wo, Hb, Wb)
    return np.einsum("...ijpq,...pq->...ij", win, b)


def batch_conv2d_valid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Valid convolution over the last two axes: filtering with the kernel flipped."""
    b = np.asarray(b)
    _check_batched("batch_conv2d_valid", np.asarray(a), b)
    return batch_filter2d(a, b[..., ::-1, ::-1])


def batch_conv2d_full(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Full convolution over the last two axes: zero-pad a by (Hb−1, Wb−1), then valid."""
    a, b = np.asarray(a), np.asarray(b)
    _check_batched("batch_conv2d_full", a, b)
    hb, wb = b.shape[-2:]
    pad = [(0, 0)] * (a.ndim - 2) + [(hb - 1, hb - 1), (wb - 1, wb - 1)]
    return batch_conv2d_valid(np.pad(a, pad), b)


def filter2d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a ⋆_filt b)_ij = Σ_pq a_{i+p−1, j+q−1} b_pq on 2-D arrays (no kernel flip)."""
    a, b = np.asarray(a), np.asarray(b)
    _check_2d("filter2d", a, b)
    return batch_filter2d(a, b)


def conv2d_valid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a ∗_valid b)_ij = Σ_mn a_mn b_{i−m+Hb, j−n+Wb}; output (Ha−Hb+1)×(Wa−Wb+1)."""
    a, b = np.asarray(a), np.asarray(b)
    _check_2d("conv2d_valid", a, b)
    return batch_conv2d_valid(a, b)


def conv2d_full(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a ∗_full b)_ij = Σ_mn a_mn b_{i−m+1, j−n+1} (a zero outside); (Ha+Hb−1)×(Wa+Wb−1)."""
    a, b = np.asarray(a), np.asarray(b)
    _check_2d("conv2d_full", a, b)
    return batch_conv2d_full(a, b)


# --------------------------------------------------------------------------- im2col


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """⌊(size + 2·padding − kernel)/stride⌋ + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def im2col(
    x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """Receptive fields as columns: (N, C, H, W) -> (N, C·kh·kw, Ho·Wo).

    Row index (c, p, q) matches ``W.reshape(F, C·kh·kw)``, so Y_n = W_mat @ cols_n.
    Built from a strided view (no Python loop); the final reshape makes one copy.
    """
    n, c = x.shape[:2]
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    ho, wo = win.shape[2:4]
    # (N, C, Ho, Wo, kh, kw) -> (N, C, kh, kw, Ho, Wo): inner loops stay contiguous.
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, ho * wo)


def col2im(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kh: int,
    kw: int,
    stride: int = 1,
    padding: int = 0,
) -> np.ndarray:
    """Adjoint of :func:`im2col`: sum each column entry back onto its input pixel.

    One vectorised strided add per kernel offset (kh·kw iterations, none over samples,
    pixels or channels).
    """
    n, c, h, w = x_shape
    hp, wp = h + 2 * padding, w + 2 * padding
    ho = conv_output_size(h, kh, stride, padding)
    wo = conv_output_size(w, kw, stride, padding)
    cols6 = cols.reshape(n, c, kh, kw, ho, wo)
    dx = np.zeros((n, c, hp, wp), dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            dx[:, :, p : p + stride * (ho - 1) + 1 : stride,
               q : q + stride * (wo - 1) + 1 : stride] += cols6[:, :, p, q]
    if padding:
        dx = dx[:, :, padding : padding + h, padding : padding + w]
    return dx


# --------------------------------------------------------------------------- layers


class Conv2d(Module):
    """2-D convolution layer (cross-correlation, as in every DL framework).

    Y_nf = Σ_c pad(X)_nc ⋆_filt W_fc (with stride) + b_f, W of shape (F, C, kh, kw).
    With cols_n = im2col(X)_n (C·kh·kw × Ho·Wo) and W_mat = W.reshape(F, −1):
        forward   Y_n = W_mat cols_n + b
        backward  dW_mat = Σ_n dY_n cols_nᵀ,  db = Σ_{n,h,w} dY,
                  dcols_n = W_matᵀ dY_n,  dX = col2im(dcols)
    which for stride 1 and no padding equals the handout's full-convolution /
    filtering formulas.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        init: Init = "kaiming",
        rng: np.random.Generator | int | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__(dtype)
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        if min(in_channels, out_channels, kh, kw, stride) <= 0 or padding < 0:
            raise ValueError(
                f"Conv2d: invalid sizes in={in_channels} out={out_channels} "
                f"kernel={(kh, kw)} stride={stride} padding={padding}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (kh, kw)
        self.stride, self.padding = stride, padding
        gen = as_generator(rng)
        fan_in, fan_out = in_channels * kh * kw, out_channels * kh * kw
        shape = (out_channels, in_channels, kh, kw)
        self.add_param("weight", init_weight(shape, fan_in, fan_out, init, gen, self.dtype))
        if bias:
            self.add_param("bias", np.zeros(out_channels))
        self._cols: np.ndarray | None = None
        self._x_shape: tuple[int, int, int, int] | None = None
        self._out_shape: tuple[int, ...] | None = None

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={'bias' in self._params}"
        )

    def output_shape(self, h: int, w: int) -> tuple[int, int]:
        """Spatial output size for an input of size h×w."""
        kh, kw = self.kernel_size
        return (
            conv_output_size(h, kh, self.stride, self.padding),
            conv_output_size(w, kw, self.stride, self.padding),
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Y_n = W_mat im2col(X)_n + b, reshaped to (N, F, Ho, Wo)."""
        x = self._input(x)
        check_shape(self.name, x, ("N", self.in_channels, "H", "W"))
        kh, kw = self.kernel_size
        n, _, h, w = x.shape
        ho, wo = self.output_shape(h, w)
        if ho < 1 or wo < 1:
            raise ValueError(
                f"{self.name}: input spatial size {(h, w)} with padding {self.padding} is "
                f"smaller than the kernel {self.kernel_size}"
            )
        cols = im2col(x, kh, kw, self.stride, self.padding)
        w_mat = self._params["weight"].reshape(self.out_channels, -1)
        y = np.matmul(w_mat, cols)  # (N, F, Ho*Wo)
        if "bias" in self._params:
            y += self._params["bias"][:, None]
        self._cols, self._x_shape = cols, (n, self.in_channels, h, w)
        out = y.reshape(n, self.out_channels, ho, wo)
        self._out_shape = out.shape
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """dW = Σ_n dY_n cols_nᵀ, db = Σ dY, dX = col2im(W_matᵀ dY)."""
        g = self._grad_input(dout, self._out_shape)
        assert self._cols is not None and self._x_shape is not None
        n = g.shape[0]
        g3 = g.reshape(n, self.out_channels, -1)  # (N, F, Ho*Wo)
        # Σ_n dY_n cols_nᵀ: a batched GEMM (transposed operand is a view) then a sum over n;
        # ~3x faster here than tensordot, which copies both operands to 2-D.
        ckk = self._cols.shape[1]
        dw = np.matmul(g3, self._cols.transpose(0, 2, 1)).sum(axis=0)
        self._grads["weight"][...] = dw.reshape(self._grads["weight"].shape)
        if "bias" in self._params:
            np.sum(g3, axis=(0, 2), out=self._grads["bias"])
        if not self.requires_input_grad:
            return None
        w_mat = self._params["weight"].reshape(self.out_channels, ckk)
        dcols = np.matmul(w_mat.T, g3)  # (N, C*kh*kw, Ho*Wo)
        kh, kw = self.kernel_size
        return col2im(dcols, self._x_shape, kh, kw, self.stride, self.padding)


class MaxPool2d(Module):
    """Max pooling over k×k windows with a stride (default k), no padding.

    Forward takes the max of each window (a strided view, one argmax). Backward routes
    dY to the arg-max position of each window (ties: the first in row-major order gets
    it), one vectorised masked add per window offset.
    """

    def __init__(
        self,
        kernel_size: int = 2,
        stride: int | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__(dtype)
        if kernel_size <= 0 or (stride is not None and stride <= 0):
            raise ValueError(f"MaxPool2d: invalid kernel_size={kernel_size} stride={stride}")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self._argmax: np.ndarray | None = None
        self._x_shape: tuple[int, ...] | None = None
        self._out_shape: tuple[int, ...] | None = None

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Y_nchw = max over the window at (h·s, w·s)."""
        x = self._input(x)
        check_shape(self.name, x, ("N", "C", "H", "W"))
        k, s = self.kernel_size, self.stride
        if x.shape[2] < k or x.shape[3] < k:
            raise ValueError(
                f"{self.name}: input spatial size {x.shape[2:]} smaller than window {k}"
            )
        win = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
        flat = win.reshape(*win.shape[:4], k * k)
        idx = flat.argmax(axis=-1)
        out = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
        self._argmax, self._x_shape, self._out_shape = idx, x.shape, out.shape
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dX[window argmax] += dY (other positions get 0)."""
        g = self._grad_input(dout, self._out_shape)
        assert self._argmax is not None and self._x_shape is not None
        k, s = self.kernel_size, self.stride
        ho, wo = g.shape[2:]
        dx = np.zeros(self._x_shape, dtype=self.dtype)
        for o in range(k * k):
            p, q = divmod(o, k)
            dx[:, :, p : p + s * (ho - 1) + 1 : s, q : q + s * (wo - 1) + 1 : s] += np.where(
                self._argmax == o, g, 0
            )
        return dx
