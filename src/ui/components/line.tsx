import { Text, type TextProps } from 'ink';

/** One terminal line: never wraps, cut with … at the edge. Children must already be sanitised. */
export function Line(props: TextProps) {
  return <Text wrap="truncate-end" {...props} />;
}
