"""A candidate keeps one identity (its index in the formula space) through the screen and meta-tailoring."""

from types import SimpleNamespace

import numpy as np

from noether.pipeline.stages import META_FIGURE, SCREEN_FIGURES, TailorResult


def _tailored(meta: bool) -> TailorResult:
    # three screened candidates, numbered by the space (not 0..2); the screen keeps two, in its own order
    screen = SimpleNamespace(
        best_lr=np.array([0.1, 0.2, 0.3]), best_dt_scale=np.array([1.0, 0.1, 0.01]), best_loss=np.array([5.0, 4.0, 6.0])
    )
    top = np.array([40, 7])
    result = SimpleNamespace(train_rmse=np.array([0.5, 0.25]), law_params=np.array([[1.0], [2.0]])) if meta else None
    return TailorResult(np.array([7, 12, 40]), screen, top, meta=result)  # type: ignore[arg-type]


def test_the_screens_figures_are_found_under_the_candidates_space_index():
    frame = _tailored(meta=True).screened()
    assert list(frame.columns) == list(SCREEN_FIGURES) and list(frame.index) == [7, 12, 40]
    assert frame.loc[40].tolist() == [0.3, 0.01, 6.0] and frame.loc[7, "screen_loss"] == 5.0


def test_meta_tailorings_figures_and_parameters_follow_the_top_candidates_not_their_row():
    tail = _tailored(meta=True)
    assert tail.tailored()[META_FIGURE].to_dict() == {40: 0.5, 7: 0.25}
    assert tail.meta_params(7).tolist() == [2.0] and tail.meta_params(40).tolist() == [1.0]
    assert tail.meta_params(12) is None  # screened, not meta-tailored


def test_without_meta_tailoring_there_are_no_meta_figures():
    tail = _tailored(meta=False)
    assert tail.tailored().empty and tail.meta_params(7) is None
