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
}

function options(series: ChartSeries[], width: number): uPlot.Options {
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
    axes: [{}, ...scales.map((scale, i) => ({ scale, size: 48, side: i === 0 ? 3 : 1, label: scale === 'y' ? undefined : scale, grid: { show: i === 0 } }))],
    scales: { x: { time: true } },
  };
}

export function TimeChart({ title, data, series }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(240, el.clientWidth);
    plot.current = new uPlot(options(series, width()), data, el);
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
