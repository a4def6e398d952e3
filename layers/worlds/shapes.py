"""Random geometry generators of the synthetic worlds (demo, benchmark, tests).

Irregular blobs, rotated rectangles, bending lines, points sampled inside a
region or near other geometries. Pure functions of their arguments and a
``numpy.random.Generator``: the same generator state gives the same shapes.
"""

from __future__ import annotations

from collections.abc import Callable
import math

import numpy as np
import shapely
from shapely import affinity

__all__ = [
    "blob",
    "rotated_rectangles",
    "largest_part",
    "sample_points",
    "place_at_gap",
    "wiggly_line",
    "near_points",
]


def blob(
    centre: np.ndarray,
    area_m2: float,
    rng: np.random.Generator,
    *,
    roughness: float = 0.25,
    aspect: float = 1.0,
    angle_deg: float = 0.0,
    n_vertices: int = 96,
) -> shapely.Polygon:
    """An irregular star-shaped polygon of a given area around ``centre``.

    The radius is ``1 + sum_k a_k cos(k*theta + phi_k)`` for harmonics
    k = 2..11 with amplitudes ~ N(0, roughness / k^1.5) (smoother at higher k),
    clipped at 0.45 so the outline never passes through the centre; a
    star-shaped outline is always a simple, valid polygon.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, n_vertices, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 12):
        radius += rng.normal(0.0, roughness / k**1.5) * np.cos(
            k * theta + rng.uniform(0.0, 2.0 * np.pi)
        )
    radius = np.clip(radius, 0.45, None)
    x = radius * np.cos(theta) * aspect
    y = radius * np.sin(theta) / aspect
    shape = affinity.rotate(shapely.Polygon(np.column_stack([x, y])), angle_deg, origin=(0, 0))
    shape = affinity.scale(
        shape, math.sqrt(area_m2 / shape.area), math.sqrt(area_m2 / shape.area), origin=(0, 0)
    )
    return affinity.translate(shape, *centre)


def rotated_rectangles(
    centres: np.ndarray, lengths: np.ndarray, widths: np.ndarray, angles_deg: np.ndarray
) -> np.ndarray:
    """Rotated rectangles (vectorised) centred on ``centres``, as a shapely array."""
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    local = corners[None, :, :] * np.column_stack([lengths, widths])[:, None, :]
    a = np.radians(angles_deg)[:, None]
    x = local[..., 0] * np.cos(a) - local[..., 1] * np.sin(a) + centres[:, 0:1]
    y = local[..., 0] * np.sin(a) + local[..., 1] * np.cos(a) + centres[:, 1:2]
    return shapely.polygons(np.stack([x, y], axis=-1))


def largest_part(geom: shapely.Geometry) -> shapely.Polygon:
    """The part of a (multi)polygon with the largest area."""
    parts = shapely.get_parts(geom)
    return parts[int(np.argmax(shapely.area(parts)))]


def sample_points(
    region: shapely.Geometry,
    n: int,
    rng: np.random.Generator,
    *,
    accept: Callable[[np.ndarray], np.ndarray] | None = None,
    max_rounds: int = 200,
) -> np.ndarray:
    """Draw ``n`` uniform random points inside ``region`` by rejection sampling.

    Parameters
    ----------
    region
        Polygon(s) in EPSG:28992 to sample from.
    n
        Number of points.
    rng
        The random generator.
    accept
        Optional extra filter: takes an (m, 2) array, returns a boolean mask.

    Returns
    -------
    numpy.ndarray
        An (n, 2) array of x, y in m.
    """
    if n <= 0:
        return np.empty((0, 2))
    if region.is_empty:
        raise RuntimeError("demo: cannot sample points in an empty region")
    shapely.prepare(region)
    xmin, ymin, xmax, ymax = region.bounds
    fill = max(region.area / ((xmax - xmin) * (ymax - ymin)), 1e-3)
    found: list[np.ndarray] = []
    count = 0
    for _ in range(max_rounds):
        batch = int(n / fill * 1.5) + 16
        xy = np.column_stack([rng.uniform(xmin, xmax, batch), rng.uniform(ymin, ymax, batch)])
        keep = shapely.contains_xy(region, xy[:, 0], xy[:, 1])
        if accept is not None:
            keep[keep] = accept(xy[keep])
        found.append(xy[keep])
        count += int(keep.sum())
        if count >= n:
            return np.concatenate(found)[:n]
    raise RuntimeError(f"demo: found only {count} of {n} points in the sampling region")


def place_at_gap(
    shape: shapely.Geometry,
    anchor: shapely.Geometry,
    centre: np.ndarray,
    direction_deg: float,
    gap_m: float,
) -> shapely.Geometry:
    """Move ``shape`` out from ``centre`` along a direction until it lies ``gap_m`` from
    ``anchor``."""
    unit = np.array([math.cos(math.radians(direction_deg)), math.sin(math.radians(direction_deg))])
    start = np.asarray(shapely.centroid(shape).coords[0])
    # Start beyond the anchor's far edge, then step until the gap is right (distance grows ~1:1).
    t = math.hypot(anchor.bounds[2] - anchor.bounds[0], anchor.bounds[3] - anchor.bounds[1])
    for _ in range(60):
        moved = affinity.translate(shape, *(centre + unit * t - start))
        error = gap_m - shapely.distance(moved, anchor)
        if abs(error) < 0.5:
            break
        t += error
    return moved


def wiggly_line(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, *, bend_m: float, n: int = 12
) -> shapely.LineString:
    """A road from a to b that bends sideways smoothly (sum of two sine bumps)."""
    t = np.linspace(0.0, 1.0, n)
    direction = b - a
    normal = np.array([-direction[1], direction[0]]) / np.linalg.norm(direction)
    offset = rng.uniform(-bend_m, bend_m) * np.sin(np.pi * t) + rng.uniform(
        -bend_m, bend_m
    ) / 3 * np.sin(2 * np.pi * t)
    return shapely.LineString(a + t[:, None] * direction + offset[:, None] * normal)


def near_points(
    geoms: np.ndarray, n: int, rng: np.random.Generator, *, min_m: float, max_m: float
) -> np.ndarray:
    """``n`` points at min_m..max_m from randomly chosen points of ``geoms``."""
    base = shapely.get_coordinates(geoms)[rng.integers(0, len(geoms), n)]
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    dist = rng.uniform(min_m, max_m, n)
    return base + dist[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
