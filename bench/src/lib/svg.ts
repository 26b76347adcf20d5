// A small grouped horizontal bar chart as SVG: no dependencies, readable in any browser.
export interface Bar {
  label: string;
  value: number;
  note?: string;
}

export function barChart(title: string, unit: string, bars: Bar[]): string {
  const width = 760;
  const rowH = 28;
  const left = 230;
  const top = 44;
  const height = top + bars.length * rowH + 24;
  const max = Math.max(...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 1e-9);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = bars
    .map((b, i) => {
      const y = top + i * rowH;
      const w = Number.isFinite(b.value) ? ((width - left - 130) * b.value) / max : 0;
      return `<text x="${left - 8}" y="${y + 18}" text-anchor="end">${esc(b.label)}</text>
<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="#2563eb" rx="3"/>
<text x="${left + w + 6}" y="${y + 18}">${Number.isFinite(b.value) ? b.value.toFixed(b.value >= 100 ? 0 : 1) : 'n/a'} ${esc(unit)}${b.note ? ` ${esc(b.note)}` : ''}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="16" y="26" font-size="16" font-weight="bold">${esc(title)}</text>
${rows}
</svg>
`;
}

export interface Series {
  label: string;
  color: string;
  points: Array<[number, number]>;
  /** Dashed, so a series drawn over an identical one stays visible. */
  dashed?: boolean;
}

/** Lines over a shared x axis (seconds), y from 0; optional vertical markers. */
export function lineChart(
  title: string,
  xUnit: string,
  yUnit: string,
  series: Series[],
  markers: Array<{ x: number; label: string }> = [],
): string {
  const width = 760;
  const height = 320;
  const left = 60;
  const right = 20;
  const top = 44;
  const bottom = 40;
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const xMax = Math.max(...xs, ...markers.map((m) => m.x), 1);
  const xMin = Math.min(...xs, 0);
  const yMax = Math.max(...ys, 1) * 1.1;
  const px = (x: number) => left + ((x - xMin) / (xMax - xMin || 1)) * (width - left - right);
  const py = (y: number) => top + (1 - y / yMax) * (height - top - bottom);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const lines = series
    .map(
      (s) =>
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${s.points
          .map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`)
          .join(' ')}"/>`,
    )
    .join('\n');
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${left + i * 220}" y="${height - 16}" width="12" height="4" fill="${s.color}"/><text x="${left + i * 220 + 18}" y="${height - 10}">${esc(s.label)}</text>`,
    )
    .join('\n');
  const marks = markers
    .map(
      (m) =>
        `<line x1="${px(m.x).toFixed(1)}" x2="${px(m.x).toFixed(1)}" y1="${top}" y2="${height - bottom}" stroke="#999" stroke-dasharray="4 3"/><text x="${(px(m.x) + 4).toFixed(1)}" y="${top + 12}" fill="#555">${esc(m.label)}</text>`,
    )
    .join('\n');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const y = yMax * f;
      return `<text x="${left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${y.toFixed(y >= 10 ? 0 : 1)}</text><line x1="${left}" x2="${width - right}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#eee"/>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="16" y="26" font-size="16" font-weight="bold">${esc(title)}</text>
${ticks}
<text x="${width - right}" y="${height - bottom + 16}" text-anchor="end">${esc(`${xMax.toFixed(0)} ${xUnit}`)}</text>
<text x="${left}" y="${top - 6}">${esc(yUnit)}</text>
${marks}
${lines}
${legend}
</svg>
`;
}
