/**
 * A small SVG writer for the benchmark chart: side-by-side panels of horizontal grouped bars
 * (one row per gateway, one bar per connection count). No dependencies.
 */

export interface PanelRow {
  readonly label: string;
  /** One value per series; undefined draws nothing. */
  readonly values: readonly (number | undefined)[];
}

export interface Panel {
  readonly title: string;
  /** Formats a value for its label, e.g. `(v) => v.toFixed(0)`. */
  readonly format: (value: number) => string;
  readonly rows: readonly PanelRow[];
}

export interface ChartOptions {
  readonly title: string;
  readonly subtitle?: string;
  readonly series: readonly string[];
  readonly panels: readonly Panel[];
}

const colors = ['#9ecae1', '#4292c6', '#08519c', '#fd8d3c', '#31a354'];
const font = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A "nice" axis maximum: 1, 2, 2.5 or 5 × a power of ten, at least `value`. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function groupedBarChart(options: ChartOptions): string {
  const labelWidth = 250;
  const panelWidth = 430;
  const barHeight = 9;
  const barGap = 1;
  const rowGap = 10;
  const top = options.subtitle ? 92 : 76;
  const rows = Math.max(...options.panels.map((p) => p.rows.length));
  const rowHeight = options.series.length * (barHeight + barGap) + rowGap;
  const plotHeight = rows * rowHeight;
  const width = labelWidth + options.panels.length * (panelWidth + 40) + 20;
  const height = top + plotHeight + 60;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${font} font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600">${escapeXml(options.title)}</text>`,
  );
  if (options.subtitle) out.push(`<text x="12" y="40" fill="#555">${escapeXml(options.subtitle)}</text>`);

  // Legend.
  let legendX = labelWidth;
  const legendY = top - 32;
  options.series.forEach((name, i) => {
    out.push(
      `<rect x="${legendX}" y="${legendY - 9}" width="10" height="10" fill="${colors[i % colors.length]}"/>`,
      `<text x="${legendX + 14}" y="${legendY}">${escapeXml(name)}</text>`,
    );
    legendX += 24 + name.length * 6.5;
  });

  // Row labels, from the first panel.
  options.panels[0]?.rows.forEach((row, r) => {
    const y = top + r * rowHeight + (rowHeight - rowGap) / 2 + 4;
    out.push(`<text x="${labelWidth - 8}" y="${y}" text-anchor="end">${escapeXml(row.label)}</text>`);
  });

  options.panels.forEach((panel, p) => {
    const x0 = labelWidth + p * (panelWidth + 40);
    const max = niceMax(Math.max(...panel.rows.flatMap((row) => row.values.filter((v): v is number => v !== undefined))));
    const scale = (v: number) => (v / max) * (panelWidth - 50);
    out.push(`<text x="${x0}" y="${top - 10}" font-weight="600">${escapeXml(panel.title)}</text>`);
    for (let t = 0; t <= 4; t++) {
      const value = (max * t) / 4;
      const x = x0 + scale(value);
      out.push(
        `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${top + plotHeight}" stroke="#e5e5e5"/>`,
        `<text x="${x}" y="${top + plotHeight + 14}" text-anchor="middle" fill="#555">${escapeXml(panel.format(value))}</text>`,
      );
    }
    panel.rows.forEach((row, r) => {
      row.values.forEach((value, s) => {
        if (value === undefined) return;
        const y = top + r * rowHeight + s * (barHeight + barGap);
        const w = Math.max(0.5, scale(value));
        out.push(
          `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colors[s % colors.length]}"/>`,
          `<text x="${(x0 + w + 3).toFixed(1)}" y="${y + barHeight - 1}" font-size="9" fill="#333">${escapeXml(panel.format(value))}</text>`,
        );
      });
    });
    out.push(`<line x1="${x0}" y1="${top - 4}" x2="${x0}" y2="${top + plotHeight}" stroke="#999"/>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
