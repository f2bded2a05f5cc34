"""``ramp``: a simulated stand-in for Physics 101's 20° ramp scenario (paper §4.1, Appendix E).

Physics 101 (Wu et al. 2016) cannot be downloaded here, so each sequence is simulated with pymunk (Chipmunk2D):
an object of random shape (box, circle or regular polygon), size, colour, mass, friction and elasticity is let go
near the top of a 20° incline, slides (or rolls) down onto the table and hits a second object resting there. The
scene is seen from the side (y up) through a 0.78 m x 0.78 m window, recorded at 15 fps like App. E and rasterised
by ``render.py``.

App. E keeps "the middle 22 frames of each clip, where the object moves"; here the 22-frame window is placed
around the first contact between the two objects: it starts ``lead`` ~ U{6..12} frames before that contact (but not
before the release, where about half the windows start), so the slide fills the first frames and the collision
always falls in the predicted ones (frames 5-12 of 22). The table is rougher than the ramp, so the knocked object
usually stops in view. Scenes
where the object does not reach the second one within ``max_time``, or only touches it without setting it moving,
are redrawn (their count goes in ``meta``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...errors import ConfigError
from ...progress import stage
from .base import VideoDataset, WindowDataset
from .render import circle_vertices, paint, segment_vertices, to_uint8

N_COND, N_PRED = 2, 20
FPS = 15
SLOPE = np.deg2rad(20.0)
TABLE_Y = 0.22  # table top (m)
RAMP_TOP_X, RAMP_FOOT_X = 0.02, 0.48
VIEW = (0.0, 0.13, 0.78)  # camera window: left x, bottom y, side (m)
RAMP_TOP_Y = TABLE_Y + (RAMP_FOOT_X - RAMP_TOP_X) * np.tan(SLOPE)
DOWN_SLOPE = np.array([np.cos(SLOPE), -np.sin(SLOPE)])  # unit vector down the incline
SLOPE_NORMAL = np.array([np.sin(SLOPE), np.cos(SLOPE)])  # outward normal of the incline
TABLE_FRICTION = 2.0  # the table is rougher than the ramp (friction 1), so knocked objects mostly stay in view
KINDS = ("box", "circle", "polygon")
WALL, WOOD, TABLE = (0.86, 0.84, 0.80), (0.62, 0.45, 0.28), (0.40, 0.30, 0.22)


@dataclass(frozen=True)
class RampConfig:
    sequences: int
    test_fraction: float = 0.2
    max_time: float = 4.0  # s simulated before a scene without collision is redrawn
    substeps: int = 40  # physics steps per frame (dt = 1 / (FPS * substeps))

    def __post_init__(self):
        if self.sequences < 2:
            raise ConfigError(f"ramp needs >= 2 sequences, got {self.sequences}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"test_fraction must be in (0, 1), got {self.test_fraction}")


PRESETS = {"paper": RampConfig(389), "pilot": RampConfig(389), "cpu": RampConfig(389), "ci": RampConfig(10)}


@dataclass(frozen=True)
class Body:
    """One object: ``vertices`` [k, 2] in its body frame (m, about its centre of mass); circles have k = 0."""

    kind: str
    radius: float  # circumradius (m)
    vertices: tuple[tuple[float, float], ...]
    mass: float  # kg
    friction: float  # Coulomb coefficient; a contact uses the product of the two shapes' coefficients
    elasticity: float
    colour: tuple[float, float, float]
    rolling: float = 0.0  # rolling-resistance coefficient c: a torque c m g r against the spin (circles only)


@dataclass(frozen=True)
class RampScene:
    """Everything random about one sequence."""

    slider: Body
    target: Body
    start: float  # distance (m) of the slider's contact point from the top of the incline
    speed: float  # initial speed down the incline (m/s): the hand letting go
    target_x: float  # x (m) of the target's centre on the table
    lead: int  # frames kept before the first contact


def _flat_polygon(k: int, radius: float) -> np.ndarray:
    """A regular k-gon of circumradius ``radius`` with one edge flat at the bottom: [k, 2]."""
    theta = -np.pi / 2 - np.pi / k + 2.0 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def _body(rng: np.random.Generator, kind: str, radius: float, friction: float) -> Body:
    if kind == "box":
        aspect = rng.uniform(0.6, 1.4)
        hw, hh = radius * np.cos(np.arctan(1 / aspect)), radius * np.sin(np.arctan(1 / aspect))
        verts = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]])
    elif kind == "polygon":
        verts = _flat_polygon(int(rng.choice([3, 5, 6])), radius)
    else:
        verts = np.zeros((0, 2))
    hue = rng.uniform(0, 1)
    colour = tuple(float(c) for c in 0.15 + 0.75 * (0.5 + 0.5 * np.cos(2 * np.pi * (hue + np.array([0, 1, 2]) / 3))))
    rolling = float(rng.uniform(0.05, 0.15)) if kind == "circle" else 0.0
    return Body(
        kind,
        float(radius),
        tuple(map(tuple, verts.tolist())),
        float(rng.uniform(0.2, 2.0)),
        float(friction),
        float(rng.uniform(0.2, 0.6)),
        colour,
        rolling,
    )


def sample_scene(rng: np.random.Generator) -> RampScene:
    """Draw one scene. The slider's friction stays below tan 20° = 0.36 so it does not stick."""
    slider = _body(rng, KINDS[rng.integers(3)], rng.uniform(0.035, 0.065), rng.uniform(0.05, 0.25))
    target = _body(rng, str(rng.choice(["box", "polygon"])), rng.uniform(0.04, 0.07), rng.uniform(0.3, 0.7))
    gap = rng.uniform(0.02, 0.08)
    return RampScene(
        slider,
        target,
        start=float(rng.uniform(0.04, 0.10)),
        speed=float(rng.uniform(0.0, 0.25)),
        target_x=float(RAMP_FOOT_X + gap + target.radius),
        lead=int(rng.integers(6, 13)),
    )


def _height(body: Body) -> float:
    """Distance from the body's centre to the flat face it rests on (its radius for a circle)."""
    return body.radius if body.kind == "circle" else -min(v[1] for v in body.vertices)


@dataclass(frozen=True)
class RampTrace:
    """The simulator's record, one row per frame at 15 fps from release.

    positions [F, 2, 2] (slider, target; x, y in m), velocities [F, 2, 2], angles [F, 2] (rad);
    contact_time: simulated time (s) of the first slider-target contact, or None.
    """

    positions: np.ndarray
    velocities: np.ndarray
    angles: np.ndarray
    contact_time: float | None


def simulate(scene: RampScene, max_time: float = 4.0, substeps: int = 40) -> RampTrace:
    """Simulate a scene with pymunk until ``max_time`` (s); record the two bodies at every frame (15 fps)."""
    import pymunk

    space = pymunk.Space()
    space.gravity = (0.0, -9.81)
    space.iterations = 30
    ground = [
        pymunk.Segment(space.static_body, (RAMP_TOP_X - 0.5, RAMP_TOP_Y), (RAMP_TOP_X, RAMP_TOP_Y), 0.0),
        pymunk.Segment(space.static_body, (RAMP_TOP_X, RAMP_TOP_Y), (RAMP_FOOT_X, TABLE_Y), 0.0),
        pymunk.Segment(space.static_body, (RAMP_FOOT_X, TABLE_Y), (3.0, TABLE_Y), 0.0),
    ]
    for seg, friction in zip(ground, (1.0, 1.0, TABLE_FRICTION)):
        seg.friction, seg.elasticity = friction, 0.0
    space.add(*ground)

    def add(body: Body, position, angle, collision_type):
        if body.kind == "circle":
            moment = pymunk.moment_for_circle(body.mass, 0.0, body.radius)
        else:
            moment = pymunk.moment_for_poly(body.mass, body.vertices)
        b = pymunk.Body(body.mass, moment)
        b.position, b.angle = tuple(position), angle
        shape = pymunk.Circle(b, body.radius) if body.kind == "circle" else pymunk.Poly(b, body.vertices)
        shape.friction, shape.elasticity, shape.collision_type = body.friction, body.elasticity, collision_type
        if body.rolling > 0:
            b.velocity_func = _rolling_resistance(body.rolling * body.mass * 9.81 * body.radius / moment)
        space.add(b, shape)
        return b

    top = np.array([RAMP_TOP_X, RAMP_TOP_Y])
    centre = top + scene.start * DOWN_SLOPE + _height(scene.slider) * SLOPE_NORMAL
    slider = add(scene.slider, centre, -SLOPE, 1)
    slider.velocity = tuple(scene.speed * DOWN_SLOPE)
    target = add(scene.target, (scene.target_x, TABLE_Y + _height(scene.target)), 0.0, 2)
    elapsed, contact = [0.0], []  # simulated time; times at which slider and target start touching
    space.on_collision(1, 2, begin=lambda arbiter, sp, data: contact.append(elapsed[0]))

    dt = 1.0 / (FPS * substeps)
    frames = int(round(max_time * FPS)) + 1
    positions, velocities, angles = (np.empty((frames, 2, 2)), np.empty((frames, 2, 2)), np.empty((frames, 2)))
    for f in range(frames):
        for i, b in enumerate((slider, target)):
            positions[f, i], velocities[f, i], angles[f, i] = tuple(b.position), tuple(b.velocity), b.angle
        for _ in range(substeps):
            space.step(dt)
            elapsed[0] += dt
    return RampTrace(positions, velocities, angles, contact[0] if contact else None)


def _rolling_resistance(spin_down: float):
    """A pymunk velocity function slowing the spin by ``spin_down`` rad/s^2 (never reversing it): rolling
    resistance, without which a ball would roll along the table for ever."""
    import pymunk

    def update(body, gravity, damping, dt):
        pymunk.Body.update_velocity(body, gravity, damping, dt)
        w = body.angular_velocity
        body.angular_velocity = float(np.sign(w) * max(abs(w) - spin_down * dt, 0.0))

    return update


def _outline(body: Body, position: np.ndarray, angle: float) -> np.ndarray:
    """World-frame outline [k, 2] of a body at a pose."""
    verts = circle_vertices(np.zeros(2), body.radius) if body.kind == "circle" else np.array(body.vertices)
    c, s = np.cos(angle), np.sin(angle)
    return verts @ np.array([[c, s], [-s, c]]) + position


def background(size: int) -> np.ndarray:
    """The static scene (wall, table, ramp wedge): float32 [size, size, 3]."""
    image = np.empty((size, size, 3), np.float32)
    image[...] = WALL
    paint(image, _to_px(np.array([[-0.1, TABLE_Y], [1.1, TABLE_Y], [1.1, -0.1], [-0.1, -0.1]]), size), TABLE)
    wedge = np.array(
        [[RAMP_TOP_X - 0.1, RAMP_TOP_Y], [RAMP_TOP_X, RAMP_TOP_Y], [RAMP_FOOT_X, TABLE_Y], [RAMP_TOP_X - 0.1, TABLE_Y]]
    )
    paint(image, _to_px(wedge, size), WOOD)
    return image


def _to_px(xy: np.ndarray, size: int) -> np.ndarray:
    """World (m, y up) -> pixel coordinates (x right, y down) of the camera window ``VIEW``."""
    x0, y0, side = VIEW
    return np.stack([(xy[..., 0] - x0) / side * size, (1.0 - (xy[..., 1] - y0) / side) * size], axis=-1)


def render(scene: RampScene, trace: RampTrace, frames: slice, size: int) -> np.ndarray:
    """Rasterise frames ``frames`` of a trace: uint8 [T, size, size, 3]."""
    base = background(size)
    out = []
    for f in range(*frames.indices(len(trace.positions))):
        image = base.copy()
        for i, body in enumerate((scene.slider, scene.target)):
            pos, angle = trace.positions[f, i], trace.angles[f, i]
            paint(image, _to_px(_outline(body, pos, angle), size), body.colour)
            if body.kind == "circle":  # a spoke shows the rolling
                tip = pos + 0.8 * body.radius * np.array([np.cos(angle), np.sin(angle)])
                shade = tuple(0.5 * c for c in body.colour)
                paint(image, _to_px(segment_vertices(pos, tip, 0.25 * body.radius), size), shade)
        out.append(to_uint8(image))
    return np.stack(out)


def make_sequence(rng: np.random.Generator, config: RampConfig):
    """Draw scenes until the slider hits the target (knocking it to >= 5 cm/s) inside the window.

    Returns (scene, trace, first frame of the window, attempts)."""
    length = N_COND + N_PRED
    for attempt in range(1, 101):
        scene = sample_scene(rng)
        trace = simulate(scene, config.max_time, config.substeps)
        if trace.contact_time is None:
            continue
        contact_frame = int(np.ceil(trace.contact_time * FPS))
        first = min(max(contact_frame - scene.lead, 0), len(trace.positions) - length)
        if contact_frame < first + N_COND:
            continue
        knocked = np.linalg.norm(trace.velocities[contact_frame : first + length, 1], axis=-1).max()
        if knocked < 0.05:  # a touch, not a hit: the target must be set moving (m/s)
            continue
        return scene, trace, first, attempt
    raise RuntimeError("100 ramp scenes in a row without a collision: the scene sampler is broken")


def generate(config: RampConfig, seed: int, size: int):
    rng = np.random.default_rng(seed)
    length = N_COND + N_PRED
    n = config.sequences
    frames = np.empty((n, length, size, size, 3), np.uint8)
    positions, velocities = np.empty((n, length, 2, 2)), np.empty((n, length, 2, 2))
    angles, contact_time, first_frame = np.empty((n, length, 2)), np.empty(n), np.empty(n, np.int64)
    mass, friction, radius = np.empty((n, 2)), np.empty((n, 2)), np.empty((n, 2))
    kind, attempts = np.empty((n, 2), np.int64), 0
    with stage("simulating ramp sequences", n) as advance:
        for i in range(n):
            scene, trace, first, tries = make_sequence(rng, config)
            attempts += tries
            window = slice(first, first + length)
            frames[i] = render(scene, trace, window, size)
            positions[i], velocities[i] = trace.positions[window], trace.velocities[window]
            angles[i], contact_time[i], first_frame[i] = trace.angles[window], trace.contact_time, first
            bodies = (scene.slider, scene.target)
            mass[i], friction[i] = [b.mass for b in bodies], [b.friction for b in bodies]
            radius[i], kind[i] = [b.radius for b in bodies], [KINDS.index(b.kind) for b in bodies]
            advance()
    n_test = max(1, int(round(config.test_fraction * n)))
    order = rng.permutation(n)
    arrays = dict(
        frames=frames,
        positions=positions,
        velocities=velocities,
        angles=angles,
        contact_time=contact_time,
        first_frame=first_frame,
        mass=mass,
        friction=friction,
        radius=radius,
        kind=kind,
        train_index=np.sort(order[n_test:]),
        test_index=np.sort(order[:n_test]),
    )
    meta = dict(
        config=asdict(config),
        fps=FPS,
        slope_deg=20.0,
        view_m=list(VIEW),
        kinds=list(KINDS),
        redrawn=attempts - n,
        trace="positions/velocities [N, T, 2 (slider, target), 2 (x, y)] m, m/s (y up); angles [N, T, 2]; "
        "contact_time s from release; first_frame: window start in frames from release",
        note="simulated stand-in for Physics 101 (ramp 20 deg); App. E used 128x128 frames (--size 128)",
    )
    return arrays, meta


def build(arrays: dict, meta: dict, seed: int) -> VideoDataset:
    length = N_COND + N_PRED
    frames = arrays["frames"]
    train = WindowDataset(
        frames,
        np.stack([arrays["train_index"], np.zeros_like(arrays["train_index"])], -1),
        length,
        flip=True,
        seed=seed,
    )
    test = WindowDataset(frames, np.stack([arrays["test_index"], np.zeros_like(arrays["test_index"])], -1), length)
    return VideoDataset("ramp", train, test, N_COND, N_PRED, N_PRED, meta, arrays)
