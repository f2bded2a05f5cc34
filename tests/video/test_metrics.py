"""Per-horizon metrics agree with scikit-image's independent implementations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from noether.video.evaluate import HorizonMetrics, aggregate, frame_metrics


def test_frame_metrics_match_scikit_image():
    g = torch.Generator().manual_seed(0)
    true = torch.rand(2, 3, 3, 64, 64, generator=g)
    pred = (true + 0.1 * torch.randn(true.shape, generator=g)).clamp(0, 1)
    m = frame_metrics(pred, true)
    assert all(v.shape == (2, 3) for v in m.values())
    for b in range(2):
        for h in range(3):
            p, t = pred[b, h].permute(1, 2, 0).double().numpy(), true[b, h].permute(1, 2, 0).double().numpy()
            assert np.isclose(m["mse"][b, h].item(), ((p - t) ** 2).mean(), rtol=1e-5)
            assert np.isclose(m["psnr"][b, h].item(), peak_signal_noise_ratio(t, p, data_range=1.0), rtol=1e-4)
            ssim = structural_similarity(
                t, p, data_range=1.0, channel_axis=2, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
            )
            assert abs(m["ssim"][b, h].item() - ssim) < 2e-2


def test_better_predictions_score_better_at_every_horizon():
    g = torch.Generator().manual_seed(1)
    true = torch.rand(1, 4, 3, 64, 64, generator=g)
    noise = torch.randn(true.shape, generator=g)
    near, far = frame_metrics(true + 0.02 * noise, true), frame_metrics(true + 0.2 * noise, true)
    assert (near["mse"] < far["mse"]).all() and (near["psnr"] > far["psnr"]).all()
    assert (near["ssim"] > far["ssim"]).all()


def test_aggregate_gives_mean_and_standard_error_over_seeds():
    runs = [
        HorizonMetrics("a", "ramp", s, np.full((3, 2), float(s)), np.zeros((3, 2)), np.zeros((3, 2))) for s in (1, 3)
    ]
    mean, se, n = aggregate(runs, "mse")["a"]
    assert n == 2 and np.allclose(mean, 2.0) and np.allclose(se, 1.0)  # std (ddof 1) sqrt(2) / sqrt(2)


def test_conservation_check_scores_truth_prediction_and_tailoring(tmp_path):
    """All five numbers are finite, and the one inner step lowers the inner loss it descends."""
    from noether.video.config import preset_config
    from noether.video.evaluate import conservation_check
    from noether.video.train import train_run

    cfg = preset_config("pendulum-pixels", "noether-law", "ci", readout_steps=2, steps=2, freeze_base=False)
    train_run(cfg, tmp_path / "law", device="cpu", law_expr="p**2 - 3*cos(q)")
    check = conservation_check(tmp_path / "law", device="cpu")
    assert check.windows > 0
    values = [check.true, check.untailored, check.tailored, check.mse_untailored, check.mse_tailored]
    assert all(v >= 0 and v == v for v in values)
    assert check.tailored < check.untailored
    svg = preset_config("pendulum-pixels", "svg", "ci", steps=1)
    train_run(svg, tmp_path / "svg", device="cpu")
    with pytest.raises(ValueError, match="conservation check"):
        conservation_check(tmp_path / "svg", device="cpu")
