/**
 * Locating the shared fixtures (LOWWATER_FIXTURES, default ../shared/fixtures
 * from the repository root) and skipping cleanly when they are absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const FIXTURES = resolve(REPO_ROOT, process.env.LOWWATER_FIXTURES ?? join('..', 'shared', 'fixtures'));

export const HOW_TO_GET_FIXTURES =
  `fixtures not found at ${FIXTURES}: set LOWWATER_FIXTURES to a copy of the lowwater fixtures folder ` +
  '(models from github.com/google-coral/test_data, references made as fixtures/reference/README.md describes)';

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

/** tap `skip` option: false when the fixture exists, else the message saying how to get it. */
export function skipUnless(...parts: string[]): false | string {
  return existsSync(fixturePath(...parts)) ? false : HOW_TO_GET_FIXTURES;
}

export function readReference<T = any>(name: string): T {
  return JSON.parse(readFileSync(fixturePath('reference', name), 'utf8')) as T;
}
