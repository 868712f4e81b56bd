// Reads a file under fixtures/ (real captures and reconstructions, each folder with a SOURCE.md).
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function readFixture(relativePath: string): string {
  return readFileSync(new URL(`../fixtures/${relativePath}`, import.meta.url), 'utf8');
}

export function listFixtures(relativeDir: string): string[] {
  return readdirSync(new URL(`../fixtures/${relativeDir}/`, import.meta.url)).sort();
}
