import { describe, expect, it } from 'vitest';
import { logTicks, renderLatencyChart } from './chart.ts';

describe('renderLatencyChart', () => {
  const input = {
    title: 'POST → dispatch.assigned',
    x: [100, 200, 400],
    series: [
      { name: 'p50 <dispatch>', color: '#1f77b4', values: [80, 95, null] },
      { name: 'p99', color: '#d62728', dashed: true, values: [150, 900, null] },
    ],
    bound: { ms: 2000, label: 'p99 bound 2 s' },
    saturation: { rate: 400, label: 'saturated' },
  };

  it('is one SVG document with a point or arrow per rate and series', () => {
    const svg = renderLatencyChart(input);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(4);
    // The two unknown values are arrows at the top, labelled as such.
    expect(svg.match(/more than the wait/g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="5 3"');
  });

  it('escapes text and labels the rates on the x axis', () => {
    const svg = renderLatencyChart(input);
    expect(svg).toContain('p50 &lt;dispatch&gt;');
    expect(svg).not.toContain('<dispatch>');
    for (const r of ['>100<', '>200<', '>400<']) expect(svg).toContain(r);
  });

  it('draws a single rate without failing', () => {
    const svg = renderLatencyChart({ title: 'one', x: [500], series: [{ name: 'p99', color: '#000', values: [120] }] });
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(svg).not.toContain('NaN');
  });
});

describe('logTicks', () => {
  it('gives 1-2-5 steps', () => {
    expect(logTicks(10, 1000)).toEqual([10, 20, 50, 100, 200, 500, 1000]);
  });
});
