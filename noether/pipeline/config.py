"""What a discover run is asked to do: the five stages, the settings of each, and the one inner-step setting."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..device import check_device
from ..discovery import FilterConfig
from ..discovery.composite import CompositeConfig, DefaultPolicy
from ..dsl.grammar import DEFAULT_OPERATORS
from ..errors import ConfigError
from ..settings import RUN, hand_down
from ..systems import Trajectories
from ..tailoring import InnerSetting, IntegratorConfig, MetaConfig, ScreenConfig, TrainConfig

STAGES = ("enumerate", "filter", "screen", "meta-tailor", "evaluate")
LR_SELECT = ("screen", "meta")


@dataclass(frozen=True)
class TailorConfig:
    """The tailoring stages (screen, meta-tailor, evaluate). max_screen: laws (one form per class) passed to the
    screen; screen / meta: the stages' settings (meta None -> the data set's defaults, ``MetaConfig.for_data``);
    train: the pretrained MLP's recipe (None -> the data set's defaults); inner: THE inner-step setting, used by the
    screen, meta-tailoring and the comparison alike; eval_seeds: seeds of the final comparison; baselines: 'mlp',
    'hnn'; device: 'auto' | 'cpu' |
    'cuda'; eval_lr_select: how the comparison picks each law's (rate, dt_scale) per seed -- 'screen' (the screen,
    fast) or 'meta' (meta-tailor at every pair of the grid, keep the best long-term fit on the training data);
    integrator: the long-term evaluation's ODE solve (meta-tailoring's pick and the comparison)."""

    max_screen: int = 1000
    screen: ScreenConfig = ScreenConfig()
    meta: MetaConfig | None = None
    train: TrainConfig | None = None
    inner: InnerSetting = InnerSetting()
    eval_seeds: tuple[int, ...] = (0, 1, 2)
    baselines: tuple[str, ...] = ("mlp", "hnn")
    device: str = field(default="auto", metadata=RUN)
    eval_lr_select: str = "meta"
    integrator: IntegratorConfig = IntegratorConfig()

    def __post_init__(self):
        check_device(self.device)
        if self.eval_lr_select not in LR_SELECT:
            raise ConfigError(f"eval_lr_select must be 'screen' or 'meta', got '{self.eval_lr_select}'")
        if self.max_screen < 1:
            raise ConfigError(f"max_screen must be >= 1, got {self.max_screen}")
        if not self.eval_seeds:
            raise ConfigError("eval_seeds must name at least one seed")

    def train_config(self, traj: Trajectories, seed: int | None = None) -> TrainConfig:
        """The MLP recipe on this config's device (with ``seed`` when given)."""
        base = self.train or TrainConfig.for_data(traj)
        return replace(base, device=self.device) if seed is None else replace(base, seed=seed, device=self.device)

    def meta_config(self, traj: Trajectories) -> MetaConfig:
        """Meta-tailoring's settings, with THE integrator of the long-term evaluation handed down."""
        return hand_down(self.meta or MetaConfig.for_data(traj), "TailorConfig", integrator=self.integrator)


@dataclass(frozen=True)
class DiscoverConfig:
    """depth: formula size (nodes); max_params: parameters per formula; ops: the enumerated formulas' operators
    (``dsl.grammar.OPERATORS``; the unit-typed grammar decides where each may stand); stage: the last stage to run;
    seed: enumeration probes, random sequences, the pretrained MLP; filter / tailor: the stages' settings;
    true_law: the oracle for the evaluation (SymPy text; None: the built-in system's, if any);
    cache_dir: folder of the stage cache (None: no caching; see ``cache.StageCache``);
    force: enumerate even when the space's estimated memory is over the limit (``dsl.estimate.check_space``);
    composite: also search sparse sums of library terms (``discovery.composite``), whose laws join the filter's
    survivors: ``DefaultPolicy()`` the default portfolio, chosen from the data and its units (what ``noether
    discover`` runs), a ``CompositeConfig`` one expert's library, None the filter alone.
    Declared once, here or in ``filter``, and handed down (``settings.hand_down``): ``seed`` to the filter and
    the composite search, and the filter's ``window``, acceptance ``rule`` and ``drift`` test to the composite
    search, so that its laws are scored as the filter's are (``filter_stage``, ``composite_stage``: what the
    stages run with). A sub-config given another value is an error."""

    depth: int = 7
    max_params: int = 2
    ops: tuple[str, ...] = DEFAULT_OPERATORS
    stage: str = "evaluate"
    seed: int = 0
    filter: FilterConfig = FilterConfig()
    tailor: TailorConfig = TailorConfig()
    true_law: str | None = None
    cache_dir: str | None = None
    force: bool = False
    composite: CompositeConfig | DefaultPolicy | None = None

    def __post_init__(self):
        if self.stage not in STAGES:
            raise ConfigError(f"unknown stage '{self.stage}'; stages are {', '.join(STAGES)}")
        if self.depth < 1:
            raise ConfigError(f"depth must be >= 1, got {self.depth}")
        if self.max_params < 0:
            raise ConfigError(f"max_params must be >= 0, got {self.max_params}")
        self.composite_stage  # a setting given twice, differently, fails here  # noqa: B018

    @property
    def filter_stage(self) -> FilterConfig:
        """The filter's settings as the run uses them: ``filter`` with the run's seed."""
        return hand_down(self.filter, "DiscoverConfig", seed=self.seed)

    @property
    def composite_stage(self) -> CompositeConfig | DefaultPolicy | None:
        """The composite search's settings as the run uses them: ``composite`` (a default policy's shared ``base``)
        with the run's seed and the filter's window, acceptance rule and drift test (None when it does not run)."""
        filt = self.filter_stage
        if self.composite is None:
            return None
        values = dict(seed=self.seed, window=filt.window, rule=filt.rule, drift=filt.drift)
        if isinstance(self.composite, DefaultPolicy):
            return replace(self.composite, base=hand_down(self.composite.base, "DiscoverConfig", **values))
        return hand_down(self.composite, "DiscoverConfig", **values)

    def runs(self, stage: str) -> bool:
        return STAGES.index(stage) <= STAGES.index(self.stage)
