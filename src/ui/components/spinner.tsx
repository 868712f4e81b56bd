// A tiny spinner (no extra package): one braille frame every 80 ms, stopped on unmount.
import { useEffect, useState } from 'react';
import { Text } from 'ink';
import { useTheme } from '../theme.js';
import { SPINNER_GLYPHS } from '../spinner-glyphs.js';

export const SPINNER_FRAMES = SPINNER_GLYPHS;

export function Spinner({ label }: { label: string }) {
  const theme = useTheme();
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setFrame((f) => (f + 1) % SPINNER_FRAMES.length), 80);
    return () => clearInterval(timer);
  }, []);
  return (
    <Text wrap="truncate-end">
      <Text {...theme.accent}>{SPINNER_FRAMES[frame]}</Text> {label}
    </Text>
  );
}
