/**
 * Sections of BENCHMARKS.md written by a run of one part of the benchmark (the Worker pair alone,
 * an A/B run recorded with `--record`) into the file the full run generated: a section is its `## `
 * heading and everything up to the next one. A full run regenerates the file and carries over the
 * sections it did not measure itself.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The section `npm run bench:ab -- A B --record "…"` writes its rows in. */
export const recordedHeading = '## Recorded A/B runs';

/** The section under `heading` in `markdown` (heading included, trailing blank line kept), or undefined. */
export function sectionOf(markdown: string, heading: string): string | undefined {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) return undefined;
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start + 1, end < 0 ? undefined : end + 1);
}

/** `markdown` with the section under `heading` replaced by `lines`, or inserted before the `before` heading. */
export function withSection(markdown: string, heading: string, lines: readonly string[], before: string): string {
  const text = `${lines.join('\n')}\n`;
  const existing = sectionOf(markdown, heading);
  if (existing !== undefined) return markdown.replace(existing, text);
  const at = markdown.indexOf(`\n${before}\n`);
  return at < 0 ? `${markdown.trimEnd()}\n\n${text}` : `${markdown.slice(0, at + 1)}${text}${markdown.slice(at + 1)}`;
}

/** Rewrites one section of the file at `path` (BENCHMARKS.md), the rest as it was. */
export function writeSection(path: string, heading: string, lines: readonly string[], before: string): void {
  const markdown = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  writeFileSync(path, withSection(markdown, heading, lines, before));
}
