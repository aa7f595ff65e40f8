import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";
import { useEffect, useRef } from "react";

// Only what bar charts need, so the rest of Chart.js is left out of the bundle.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface BarSeries {
  label: string;
  values: number[];
  colour: string;
}

interface Props {
  /** Names the chart for assistive technology; the numbers are in the table beside it. */
  label: string;
  categories: string[];
  series: BarSeries[];
  /** Series stacked on one bar per category. */
  stacked?: boolean;
  /** Bars run left to right (one row per category). */
  horizontal?: boolean;
  height: number;
  legend?: boolean;
}

/**
 * A bar chart drawn by Chart.js on a canvas. Chart.js sets no inline script or style the CSP forbids and
 * runs under Tauri's frozen prototypes (SVG libraries built on d3 do not). Each chart has a table with the
 * same numbers beside it, so the canvas is only a picture (`role="img"` with a name).
 */
export function BarChart({ label, categories, series, stacked = false, horizontal = false, height, legend = true }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  // Drawn again only when what it shows changes, not on every render of the view around it.
  const shown = JSON.stringify({ categories, series, stacked, horizontal, legend });
  useEffect(() => {
    const context = canvas.current?.getContext("2d");
    if (!context) return; // No canvas (a test's DOM): the table beside it carries the numbers.
    const config: ChartConfiguration<"bar"> = {
      type: "bar",
      data: {
        labels: categories,
        datasets: series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.colour })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: legend } },
        scales: {
          x: { stacked, ticks: { precision: 0 } },
          y: { stacked, ticks: { precision: 0 } },
        },
      },
    };
    const chart = new Chart(context, config);
    return () => chart.destroy();
    // `shown` stands for every input the chart is drawn from.
  }, [shown]);
  return (
    <div className="bar-chart" style={{ height }}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}
