"""Noether Networks on video (paper §4.1-4.2, App. D, E): SVG predictors with CN layers, Noether embeddings
(learned CNN / MLP, or a discovered law over a state readout), Algorithm-1 training, per-horizon evaluation."""

from .cn import CondNorm, NormCN, cn_parameters, per_example
from .config import VideoConfig, preset_config
from .embeddings import FramePairEmbedding, LawEmbedding, OutputEmbedding, StateReadout
from .evaluate import HorizonMetrics, InnerStudy, evaluate_run, frame_metrics, inner_steps_study
from .models import ModelConfig, Rollout, VideoPredictor
from .noether_net import NoetherVideo, Query, task_loss
from .train import TrainResult, build_net, load_run, train_run

__all__ = [
    "CondNorm", "NormCN", "cn_parameters", "per_example", "VideoConfig", "preset_config", "FramePairEmbedding",
    "LawEmbedding", "OutputEmbedding", "StateReadout", "HorizonMetrics", "InnerStudy", "evaluate_run",
    "frame_metrics", "inner_steps_study", "ModelConfig", "Rollout", "VideoPredictor", "NoetherVideo", "Query",
    "task_loss", "TrainResult", "build_net", "load_run", "train_run",
]
