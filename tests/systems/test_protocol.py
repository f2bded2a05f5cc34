"""The data protocols of spring and pendulum: 'paper' is HNN's data without its noise, 'hnn' with it."""

import numpy as np
import pytest

from noether.errors import ConfigError
from noether.systems import load_system
from noether.systems.protocol import PROTOCOLS


@pytest.mark.parametrize("name", ["spring", "pendulum"])
def test_paper_protocol_is_the_hnn_draw_without_its_noise(name):
    paper = load_system(name, protocol="paper", seed=3)
    hnn = load_system(name, protocol="hnn", seed=3)
    assert paper.meta["protocol"] == "paper" and hnn.meta["protocol"] == "hnn"
    np.testing.assert_array_equal(paper.states, paper.clean)  # noise-free, as App. C
    np.testing.assert_array_equal(paper.clean, hnn.clean)  # the same data draw
    residual = (hnn.states - hnn.clean).std()
    assert residual == pytest.approx(PROTOCOLS["hnn"].noise, rel=0.1)
    default = load_system(name, seed=3)  # the default is HNN's protocol, unchanged
    assert default.meta["protocol"] == "hnn"
    np.testing.assert_array_equal(default.states, hnn.states)


def test_a_noise_level_of_no_protocol_names_none():
    assert "protocol" not in load_system("spring", noise=0.05).meta
    assert load_system("spring", noise=0.0).meta["protocol"] == "paper"


@pytest.mark.parametrize(
    "name,kwargs,message",
    [
        ("spring", {"protocol": "clean"}, "unknown protocol 'clean'"),
        ("spring", {"protocol": "paper", "noise": 0.0}, "not both"),
        ("kepler", {"protocol": "paper"}, "applies to spring and pendulum only"),
    ],
)
def test_a_bad_protocol_is_a_config_error(name, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        load_system(name, **kwargs)
