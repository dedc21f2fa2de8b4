// A time chart (uPlot): series over Unix seconds, on one y scale or two (the second on the right).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  stroke: string;
  /** The y scale (and axis) it is drawn on: the first one named is on the left. */
  scale?: string;
  /** A count that holds until the next value (drawn in steps). */
  stepped?: boolean;
  /** Draws the line across the times it has no value at (null). */
  spanGaps?: boolean;
}

interface Props {
  title: string;
  /** x: Unix seconds; then one array per series (null: no value at that time). */
  data: [number[], ...(number | null)[][]];
  series: ChartSeries[];
  /** The top of a scale at least (a job's device count for its devices scale): 0 at the bottom. */
  tops?: Record<string, number>;
}

/** The y axes count things: their ticks are whole numbers. */
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

function options(series: ChartSeries[], width: number, tops: () => Record<string, number>): uPlot.Options {
  const scales = [...new Set(series.map((s) => s.scale ?? 'y'))];
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  return {
    width,
    height: 200,
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.stroke,
        width: 2,
        scale: s.scale ?? 'y',
        spanGaps: s.spanGaps ?? false,
        ...(s.stepped && stepped ? { paths: stepped } : {}),
      })),
    ],
    axes: [{}, ...scales.map((scale, i) => ({ scale, size: 48, side: i === 0 ? 3 : 1, label: scale === 'y' ? undefined : scale, grid: { show: i === 0 }, incrs: COUNT_STEPS }))],
    scales: {
      x: { time: true },
      ...Object.fromEntries(
        scales.map((k) => [k, { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, Math.max(max, tops()[k] ?? 1, 1)] }]),
      ),
    },
  };
}

export function TimeChart({ title, data, series, tops }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const topsNow = useRef(tops ?? {});
  topsNow.current = tops ?? {};

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(240, el.clientWidth);
    plot.current = new uPlot(options(series, width(), () => topsNow.current), data, el);
    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 200 })) : null;
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={title} />
    </figure>
  );
}
