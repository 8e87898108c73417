/**
 * One trend chart (uPlot on a canvas). The canvas is an image with a text alternative
 * (`description`); the chart's values are also in a table next to it (VitalsTab), so
 * nothing depends on seeing the chart. Lines differ by dash as well as colour.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  dash?: number[];
  values: Array<number | null>;
}

export interface TrendChartProps {
  /** What the chart shows, read by screen readers in place of the canvas. */
  description: string;
  /** Times in seconds. */
  xs: number[];
  series: ChartSeries[];
  unit: string;
  height?: number;
}

const AXIS = { stroke: '#334155', grid: { stroke: '#e2e8f0', width: 1 }, ticks: { stroke: '#cbd5e1', width: 1 } };

export function TrendChart({ description, xs, series, unit, height = 220 }: TrendChartProps) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 240),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          spanGaps: true,
          points: { size: 6, fill: s.color },
          ...(s.dash ? { dash: s.dash } : {}),
        })),
      ],
      axes: [
        { ...AXIS },
        { ...AXIS, label: unit, size: 60, labelSize: 20 },
      ],
    };
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    let width = el.clientWidth;
    const resize = new ResizeObserver(() => {
      const w = Math.max(el.clientWidth, 240);
      if (w !== width) {
        width = w;
        plot.setSize({ width: w, height });
      }
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [xs, series, unit, height]);

  return (
    <div className="trend-chart">
      <div className="trend-chart-canvas" ref={box} role="img" aria-label={description} />
      <ul className="trend-legend" aria-hidden="true">
        {series.map((s) => (
          <li key={s.label}>
            <svg width="28" height="10" focusable="false">
              <line x1="1" y1="5" x2="27" y2="5" stroke={s.color} strokeWidth="3" strokeDasharray={s.dash?.join(' ')} />
            </svg>
            {s.label}
          </li>
        ))}
      </ul>
    </div>
  );
}
