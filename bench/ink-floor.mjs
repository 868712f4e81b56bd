// Node + React + Ink's own cost, without lantop (bench/app-bench.ts's floor for the live screen).
// Usage: node bench/ink-floor.mjs MODE
//   bare    node only: a 1 s timer, nothing imported
//   empty   Ink imported and one <Text> rendered, nothing changes
//   frames  a full screen (terminal size) of new text every second, 2 coloured spans per line,
//           shaped like the live table, handed to Ink the cheapest way Ink allows: one <Transform>
//           over a constant blank block (src/ui/components/fixed-lines.tsx, how the live screen
//           was drawn before its row writer), so Ink measures nothing new and only writes them
//   direct  the same frames without React or Ink: each changed line written in place (cursor
//           address + line + erase to end of line), as the live screen's row writer does now
//           (src/ui/terminal-surface.ts)
// Plain JavaScript; q quits.
process.env.NODE_ENV ??= 'production';
const mode = process.argv[2] ?? 'empty';
if (process.stdin.isTTY) process.stdin.setRawMode(true);
process.stdin.on('data', (d) => {
  if (String(d).includes('q')) process.exit(0);
});
const width = Math.max(60, (process.stdout.columns || 160) - 2);
const rows = Math.max(3, (process.stdout.rows || 50) - 2);
const SPARK = '▁▂▃▄▅▆▇█';
const cyan = (s) => `\u001b[36m${s}\u001b[39m`;
const lineOf = (k, i) => {
  let spark = '';
  for (let j = 0; j < 30; j++) spark += SPARK[(k * 7 + i * 3 + j) % 8];
  const text = `  host-${String(i).padEnd(22)} 198.51.100.${String(i + 2).padEnd(5)} ${String(((k * 7919 + i) % 999) / 10).padStart(6)} kB/s ${String(((k * 31 + i) % 99) / 10).padStart(6)} kB/s ${String(k).padStart(6)} MB ${String(i).padStart(6)} kB  ${String((k + i) % 100).padStart(4)}.0%  ${String(i % 10).padStart(3)}.0% `;
  // Exactly `width` cells: the text, a 10-cell share bar, a space and a 30-cell sparkline.
  return text.padEnd(width - 41).slice(0, Math.max(0, width - 41)) + cyan('████▌     ') + ' ' + cyan(spark);
};
const frameOf = (mode, k) => Array.from({ length: rows }, (_, i) => (i === 0 ? `ink-floor ${mode}: ready, frame ${k}` : lineOf(k, i)));
if (mode === 'bare') {
  process.stdout.write('ink-floor bare: ready\n');
  setInterval(() => undefined, 1000);
} else if (mode === 'direct') {
  let previous = [];
  let k = 0;
  const draw = () => {
    const lines = frameOf(mode, k++);
    let out = '';
    for (let i = 0; i < lines.length; i++) if (lines[i] !== previous[i]) out += `\u001b[${i + 1};1H${lines[i]}\u001b[K`;
    previous = lines;
    process.stdout.write(out);
  };
  process.stdout.write('\u001b[2J');
  draw();
  setInterval(draw, 1000);
} else {
  const React = (await import('react')).default;
  const { render, Text, Transform } = await import('ink');
  const h = React.createElement;
  if (mode === 'empty') {
    render(h(Text, null, 'ink-floor empty: ready'), { exitOnCtrlC: false, patchConsole: false });
  } else {
    const blank = Array.from({ length: rows }, () => ' '.repeat(width)).join('\n');
    const Frames = () => {
      const [k, setK] = React.useState(0);
      React.useEffect(() => {
        const timer = setInterval(() => setK((n) => n + 1), 1000);
        return () => clearInterval(timer);
      }, []);
      const lines = frameOf(mode, k);
      return h(Transform, { transform: (_line, index) => lines[index] ?? '' }, blank);
    };
    render(h(Frames), { exitOnCtrlC: false, patchConsole: false });
  }
}
