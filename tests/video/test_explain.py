"""PCA of the Noether embedding and Grad-CAM per PCA dimension (paper §4.2 Fig. 5, App. F Fig. 7), on tiny models."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from noether.video.embeddings import FramePairEmbedding, LawEmbedding, StateReadout
from noether.video.explain import embedding_pca, grad_cam, last_conv_layer, plot_grad_cam, plot_pca_trajectory
from noether.video.laws import law_columns, law_from_expression

TOP_LEFT, BOTTOM_RIGHT = (slice(1, 5), slice(1, 5)), (slice(11, 15), slice(11, 15))


def _tiny(seed: int = 0) -> FramePairEmbedding:
    torch.manual_seed(seed)
    return FramePairEmbedding(channels=3, size=16, filters=(4, 8), k=6)


@pytest.mark.parametrize("B,T", [(3, 5), (1, 3)])  # 12 pairs > k = 6, and 2 pairs < k (rank-deficient)
def test_pca_is_sorted_normalised_orthonormal_and_reconstructs(B, T):
    emb = _tiny()
    seqs = torch.rand(B, T, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    pca = embedding_pca(emb, seqs, batch_size=2)
    ratio = pca.explained_variance_ratio
    assert pca.components.shape == (6, 6) and pca.projected.shape == (B, T - 1, 6)
    assert ratio.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert torch.all(ratio[:-1] >= ratio[1:]) and torch.all(ratio >= 0)
    assert torch.allclose(pca.components @ pca.components.T, torch.eye(6), atol=1e-5)
    with torch.no_grad():
        e = emb.pairs(seqs)
    assert torch.allclose(pca.projected @ pca.components + pca.mean, e, atol=1e-5)
    variances = pca.projected.reshape(-1, 6).var(0)
    assert torch.allclose(variances / variances.sum(), ratio, atol=1e-4)
    if B * (T - 1) < 6:
        assert ratio[B * (T - 1) :].abs().max() < 1e-5


def _colour_embedding() -> FramePairEmbedding:
    """Embedding dim 0 = total red response, dim 1 = total green response (every other weight zero)."""
    emb = _tiny()
    conv1, conv2, linear = emb.net[0], emb.net[3], emb.net[-1]
    with torch.no_grad():
        for p in emb.parameters():
            p.zero_()
        conv1.weight[0, [0, 3]] = 1 / 50  # red of both frames
        conv1.weight[1, [1, 4]] = 1 / 50  # green of both frames
        conv2.weight[0, 0] = conv2.weight[1, 1] = 1 / 25
        linear.weight[0, :16] = linear.weight[1, 16:32] = 1.0  # channel c's 4x4 pooled cells
    return emb


def _scene(red: float, green: float, red_at, green_at, T: int = 3) -> torch.Tensor:
    """A static sequence [T, 3, 16, 16]: black, a red square at ``red_at`` and a green one at ``green_at``."""
    frame = torch.zeros(3, 16, 16)
    frame[0][red_at] = red
    frame[1][green_at] = green
    return frame.expand(T, -1, -1, -1).clone()


def _mass(m: torch.Tensor, region) -> float:
    return (m[region].sum() / m.sum()).item()


def test_grad_cam_of_each_pca_dimension_follows_its_object():
    emb = _colour_embedding()
    # red varies 4x more than green (balanced design: no cross-covariance) -> PC1 = red axis, PC2 = green axis
    test_set = torch.stack([_scene(r, g, TOP_LEFT, BOTTOM_RIGHT) for r in (0.2, 1.0) for g in (0.4, 0.6)])
    pca = embedding_pca(emb, test_set)
    assert pca.explained_variance_ratio[0] > 0.9
    for red_at, green_at in [(TOP_LEFT, BOTTOM_RIGHT), (BOTTOM_RIGHT, TOP_LEFT)]:
        maps = grad_cam(emb, _scene(1.0, 1.0, red_at, green_at), pca, dims=[0, 1], times=[0, 1])
        assert maps.shape == (2, 2, 16, 16)
        assert maps.min() >= 0 and torch.allclose(maps.amax((2, 3)), torch.ones(2, 2))
        for t in range(2):
            pc1, pc2 = maps[t]
            assert _mass(pc1, red_at) > 0.15 and _mass(pc1, green_at) < 0.01
            assert _mass(pc2, green_at) > 0.15 and _mass(pc2, red_at) < 0.01
            for m, at in [(pc1, red_at), (pc2, green_at)]:
                r, c = divmod(m.argmax().item(), 16)
                assert at[0].start - 2 <= r < at[0].stop + 2 and at[1].start - 2 <= c < at[1].stop + 2


def test_grad_cam_does_not_depend_on_the_sign_of_a_pca_axis():
    emb = _colour_embedding()
    test_set = torch.stack([_scene(r, g, TOP_LEFT, BOTTOM_RIGHT) for r in (0.2, 1.0) for g in (0.4, 0.6)])
    pca = embedding_pca(emb, test_set)
    maps = grad_cam(emb, torch.zeros(3, 3, 16, 16), pca, dims=[0, 1], times=[1])  # black: the layer outputs 0
    assert torch.equal(maps, torch.zeros(1, 2, 16, 16))  # not NaN, not rescaled noise
    # the flipped axis -PC1 (more red lowers it) reads the same pixels: a ReLU'd Grad-CAM would be blank here
    scene = _scene(1.0, 1.0, TOP_LEFT, BOTTOM_RIGHT)
    flipped = dataclasses.replace(pca, components=-pca.components)
    plain, other = (grad_cam(emb, scene, p, dims=[0, 1], times=[0]) for p in (pca, flipped))
    assert torch.allclose(plain, other) and torch.allclose(other.amax((2, 3)), torch.ones(1, 2))


def test_target_layer_is_the_last_conv_relu_and_law_embeddings_work():
    emb = _tiny()
    assert last_conv_layer(emb) is emb.net[4]  # Conv2d(4, 8) + ReLU, before the max-pool
    torch.manual_seed(0)
    law = law_from_expression("p**2 - 3*cos(q)")
    law_emb = LawEmbedding(law, law_columns(law), StateReadout(3, size=16, width=4))
    assert last_conv_layer(law_emb) is law_emb.readout.net[5]
    seqs = torch.rand(2, 4, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    pca = embedding_pca(law_emb, seqs)
    assert pca.components.shape == (1, 1) and pca.explained_variance_ratio.item() == pytest.approx(1.0)
    maps = grad_cam(law_emb, seqs[0], pca, dims=[0], times=[0, 2])
    assert maps.shape == (2, 1, 16, 16) and maps.min() >= 0 and maps.max() <= 1
    assert law_emb.training  # mode restored
    with pytest.raises(ValueError):
        grad_cam(law_emb, seqs[0], pca, dims=[0], times=[3])  # pair (3, 4) does not exist in 4 frames


def test_plots_write_png_files(tmp_path):
    emb = _tiny()
    seqs = torch.rand(3, 4, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    pca = embedding_pca(emb, seqs)
    dims, times = [0, 1, 2], [0, 2]
    maps = grad_cam(emb, seqs[0], pca, dims, times)
    cam_path, traj_path = tmp_path / "figs" / "gradcam.png", tmp_path / "trajectory.png"
    plot_grad_cam(seqs[0], maps, dims, times, pca.explained_variance_ratio, cam_path, title="tiny")
    plot_pca_trajectory(pca, traj_path, title="tiny", n_components=3)
    for path in (cam_path, traj_path):
        assert path.stat().st_size > 0 and path.read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["figs", "gradcam.png", "trajectory.png"]  # no temp left


def test_an_embedding_separates_when_predictions_break_it_on_most_windows():
    from noether.video.evaluate import SEPARATES, ConservationCheck

    check = ConservationCheck(0.0037, 0.0037, 0.0037, 0.01, 0.01, windows=40, separation=0.5)
    assert not check.separates and check.to_dict()["separates"] is False
    assert ConservationCheck(0.03, 0.39, 0.1, 0.01, 0.01, windows=40, separation=0.95).separates
    assert ConservationCheck(0.03, 0.39, 0.1, 0.01, 0.01, windows=40, separation=SEPARATES).separates
