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
