// A time chart (uPlot): series over the seconds since the page opened.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

interface Props {
  title: string;
  /** x: Unix seconds; then one array per series (null: no value at that time). */
  data: [number[], ...(number | null)[][]];
  series: { label: string; stroke: string }[];
}

export function TimeChart({ title, data, series }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(240, el.clientWidth);
    plot.current = new uPlot(
      {
        width: width(),
        height: 180,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
        axes: [{}, { size: 40 }],
        scales: { x: { time: true } },
      },
      data,
      el,
    );
    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 180 })) : null;
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
