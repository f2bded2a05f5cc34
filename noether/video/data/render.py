"""A small anti-aliased rasteriser for the synthetic video datasets (ramp, pendulum-pixels).

Shapes are filled polygons given in *pixel coordinates* of the output image (x to the right, y downwards, the
pixel (r, c) covering [c, c+1] x [r, r+1]). Each shape is drawn by supersampling: ``ss x ss`` sample points per
output pixel are tested with ``skimage.draw.polygon`` inside the shape's bounding box only, and the covered fraction
is the shape's alpha, so edges are smooth and the cost scales with the shape's area, not the image's.
"""

from __future__ import annotations

import numpy as np


def circle_vertices(center: np.ndarray, radius: float, n: int = 48) -> np.ndarray:
    """A regular ``n``-gon approximating a circle: [n, 2] vertices (x, y)."""
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.stack([center[0] + radius * np.cos(theta), center[1] + radius * np.sin(theta)], axis=-1)


def segment_vertices(a: np.ndarray, b: np.ndarray, width: float) -> np.ndarray:
    """The rectangle of half-width ``width / 2`` around the segment a-b: [4, 2] vertices (x, y)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-12) * (width / 2.0)
    return np.stack([a + n, b + n, b - n, a - n])


def coverage(vertices: np.ndarray, shape: tuple[int, int], ss: int = 4):
    """Fraction of each pixel inside the polygon ``vertices`` [k, 2] (x, y in pixels).

    Returns ``(r0, c0, alpha)``: alpha [h, w] in [0, 1] covers rows r0:r0+h and columns c0:c0+w of an image of
    ``shape`` (H, W); ``alpha`` is empty when the polygon lies outside the image.
    """
    vertices = np.asarray(vertices, float)
    height, width = shape
    c0 = max(int(np.floor(vertices[:, 0].min())), 0)
    c1 = min(int(np.ceil(vertices[:, 0].max())), width)
    r0 = max(int(np.floor(vertices[:, 1].min())), 0)
    r1 = min(int(np.ceil(vertices[:, 1].max())), height)
    if c1 <= c0 or r1 <= r0:
        return 0, 0, np.zeros((0, 0))
    h, w = r1 - r0, c1 - c0
    # high-res sample (i, j) sits at low-res position (r0 + (i + 0.5) / ss, c0 + (j + 0.5) / ss)
    rows = (vertices[:, 1] - r0) * ss - 0.5
    cols = (vertices[:, 0] - c0) * ss - 0.5
    from skimage.draw import polygon as fill_polygon  # the optional [video] extra

    mask = np.zeros((h * ss, w * ss), np.float32)
    rr, cc = fill_polygon(rows, cols, shape=mask.shape)
    mask[rr, cc] = 1.0
    return r0, c0, mask.reshape(h, ss, w, ss).mean(axis=(1, 3))


def paint(image: np.ndarray, vertices: np.ndarray, colour, ss: int = 4) -> None:
    """Alpha-blend a filled polygon of ``colour`` (RGB in [0, 1]) onto ``image`` [H, W, 3] float, in place."""
    r0, c0, alpha = coverage(vertices, image.shape[:2], ss)
    if alpha.size == 0:
        return
    h, w = alpha.shape
    patch = image[r0 : r0 + h, c0 : c0 + w]
    a = alpha[..., None]
    patch[...] = patch * (1.0 - a) + np.asarray(colour, np.float32) * a


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[H, W, 3] float in [0, 1] -> uint8."""
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
