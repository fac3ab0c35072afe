/**
 * Locating the shared fixtures (LOWWATER_FIXTURES, default ../shared/fixtures
 * from the repository root), and what a test does when something it needs
 * (fixtures, a peer engine, a browser) is missing: outside CI it skips with
 * the reason; under CI (CI=true) it fails, since a skipped check is not a
 * passing one.
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

/**
 * tap `skip` option of a test that needs something: `missing` is false when it is there, else the reason
 * (how to get it). Under CI the reason is thrown instead, which fails the test file.
 */
export function skipWithout(missing: false | string): false | string {
  if (missing && process.env.CI) throw new Error(`under CI nothing may be skipped, and this test needs: ${missing}`);
  return missing;
}

/** tap `skip` option: false when the fixture exists, else the message saying how to get it (thrown under CI). */
export function skipUnless(...parts: string[]): false | string {
  return skipWithout(existsSync(fixturePath(...parts)) ? false : HOW_TO_GET_FIXTURES);
}

export function readReference<T = any>(name: string): T {
  return JSON.parse(readFileSync(fixturePath('reference', name), 'utf8')) as T;
}
