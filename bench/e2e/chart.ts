// A small SVG line chart of latency against offered rate (both axes logarithmic: the ladder
// doubles the rate, and latency spans milliseconds to tens of seconds once saturated).
// Hand-written so the benchmark needs no chart library and no network.

export interface ChartSeries {
  name: string;
  color: string;
  dashed?: boolean;
  /** One value per x (ms); null = not known within the wait (drawn as an arrow at the top). */
  values: (number | null)[];
}

export interface ChartInput {
  title: string;
  subtitle?: string;
  /** Offered rates (requests/s), ascending. */
  x: number[];
  series: ChartSeries[];
  /** Horizontal reference line, e.g. the p99 bound. */
  bound?: { ms: number; label: string };
  /** Vertical marker at the saturation rate. */
  saturation?: { rate: number; label: string };
}

const W = 760;
const H = 440;
const M = { left: 72, right: 200, top: 56, bottom: 56 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function round(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** 1-2-5 ticks between lo and hi (inclusive). */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

function msLabel(v: number): string {
  if (v >= 1000) return `${v / 1000} s`;
  if (v >= 1) return `${v} ms`;
  return `${v} ms`;
}

export function renderLatencyChart(input: ChartInput): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const known = input.series.flatMap((s) => s.values.filter((v): v is number => v !== null && v > 0));
  if (input.bound) known.push(input.bound.ms);
  const yLo = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...(known.length > 0 ? known : [1])))));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...(known.length > 0 ? known : [1000])) * 1.05));
  const xLo = Math.min(...input.x) / 1.35;
  const xHi = Math.max(...input.x) * 1.35;
  const sx = (v: number) => M.left + ((Math.log(v) - Math.log(xLo)) / (Math.log(xHi) - Math.log(xLo))) * plotW;
  const sy = (v: number) => M.top + plotH - ((Math.log(Math.max(v, yLo)) - Math.log(yLo)) / (Math.log(yHi) - Math.log(yLo))) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${M.left}" y="24" font-size="15" font-weight="bold">${escapeXml(input.title)}</text>`);
  if (input.subtitle) out.push(`<text x="${M.left}" y="42" fill="#555">${escapeXml(input.subtitle)}</text>`);

  // Grid and axes.
  for (const t of logTicks(yLo, yHi)) {
    const y = round(sy(t));
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#333">${escapeXml(msLabel(t))}</text>`);
  }
  for (const r of input.x) {
    const x = round(sx(r));
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x}" y="${M.top + plotH + 16}" text-anchor="middle" fill="#333">${r}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${M.left + plotW / 2}" y="${H - 14}" text-anchor="middle">offered rate (requests/s, log scale)</text>`);
  out.push(`<text transform="translate(18 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency (log scale)</text>`);

  if (input.bound) {
    const y = round(sy(input.bound.ms));
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + plotW}" y2="${y}" stroke="#c0392b" stroke-dasharray="2 4"/>`);
    out.push(`<text x="${M.left + 4}" y="${Number(y) - 4}" fill="#c0392b" font-size="11">${escapeXml(input.bound.label)}</text>`);
  }
  if (input.saturation) {
    const x = round(sx(input.saturation.rate));
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + plotH}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    // Label on the side of the line with room for it.
    const right = Number(x) < M.left + plotW - 110;
    out.push(
      `<text x="${Number(x) + (right ? 4 : -4)}" y="${M.top + 12}" text-anchor="${right ? 'start' : 'end'}" fill="#c0392b" font-size="11">${escapeXml(input.saturation.label)}</text>`,
    );
  }

  // Series: a polyline through the known points; unknown ones as an arrow at the top edge.
  input.series.forEach((s, i) => {
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    const pts = s.values.map((v, j) => (v === null ? null : `${round(sx(input.x[j]!))},${round(sy(v))}`)).filter((p): p is string => p !== null);
    if (pts.length > 1) out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    s.values.forEach((v, j) => {
      if (v === null) {
        // Side by side, so the arrows of several series at one rate stay visible.
        const x = sx(input.x[j]!) + (i - (input.series.length - 1) / 2) * 11;
        const y = M.top + 2;
        out.push(
          `<path d="M${round(x - 5)},${round(y + 9)} L${round(x)},${round(y)} L${round(x + 5)},${round(y + 9)} Z" fill="${s.color}"><title>${escapeXml(`${s.name} at ${input.x[j]}/s: more than the wait`)}</title></path>`,
        );
      } else {
        const x = sx(input.x[j]!);
        out.push(
          `<circle cx="${round(x)}" cy="${round(sy(v))}" r="3.5" fill="${s.color}"><title>${escapeXml(`${s.name} at ${input.x[j]}/s: ${Math.round(v)} ms`)}</title></circle>`,
        );
      }
    });
    const ly = M.top + 10 + i * 20;
    const lx = M.left + plotW + 14;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  const noteY = M.top + 10 + input.series.length * 20 + 8;
  out.push(`<text x="${M.left + plotW + 14}" y="${noteY}" font-size="11" fill="#555">▲ at the top: not known</text>`);
  out.push(`<text x="${M.left + plotW + 14}" y="${noteY + 14}" font-size="11" fill="#555">within the wait (saturated)</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
