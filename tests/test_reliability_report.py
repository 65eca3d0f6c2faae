"""The epsilon-curve figure: one panel per metric family, and no legend over any plotted line
(one line must never hide another under the legend)."""

import pytest

from msmult.metrics import registry
from msmult.report import plots


@pytest.fixture
def figure(monkeypatch, tmp_path):
    drawn = {}
    monkeypatch.setattr(plots, "save", lambda fig, target: drawn.setdefault("figure", fig))
    keys = ["set_size", *(m.name for m in registry.SET_METRICS)]
    curve = [{"epsilon": e / 100, **{k: 1 + e / 10 for k in keys}} for e in range(6)]
    plots.epsilon_curve_plot(curve, tmp_path / "epsilon_curve.png", "toy")
    fig = drawn["figure"]
    fig.canvas.draw()
    return fig


def test_one_panel_per_metric_family(figure):
    scales = {m.scale for m in registry.SET_METRICS}
    assert len(figure.axes) == 1 + len(scales)  # set size, then one panel per scale
    assert {axis.get_ylabel() for axis in figure.axes} == {"models", *scales}


def test_no_legend_overlaps_the_plotting_area_of_any_panel(figure):
    legends = [axis.get_legend() for axis in figure.axes if axis.get_legend() is not None]
    assert legends, "panels with several lines need a legend"
    renderer = figure.canvas.get_renderer()
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for axis in figure.axes:
            assert not box.overlaps(axis.get_window_extent(renderer)), axis.get_ylabel()
