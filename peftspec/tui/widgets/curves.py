"""Learning curves drawn with plotext, downsampled to the widget's width."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from peftspec.tui.data import downsample


class Curves(PlotextPlot):
    """Plots named series of (step, value), or of other (x, y) named by `xlabel`; call `show` with
    new series to redraw."""

    def show(self, title: str, series: dict[str, list[tuple[float, float]]], xlabel: str = "step") -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        width = max(self.size.width - 10, 20)
        for name, points in series.items():
            if not points:
                continue
            xs, ys = downsample([p[0] for p in points], [p[1] for p in points], width)
            plt.plot(xs, ys, label=name, marker="braille")
        plt.xlabel(xlabel)
        self.refresh()
