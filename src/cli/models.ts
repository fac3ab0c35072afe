/** `lowwater models`: the registry, and where each file is looked for. */
import { REGISTRY } from '../../models/registry.js';
import { defaultCacheDir } from '../registry/fetch.js';
import type { CliIO } from './io.js';

export async function modelsCommand(argv: string[], io: CliIO): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(
      'Usage: lowwater models\n\nLists the model names --model accepts. Files are looked up in $LOWWATER_MODELS, then in the cache, then downloaded with a sha256 check.',
    );
    return 0;
  }
  const dirs = [
    process.env.LOWWATER_MODELS ? `$LOWWATER_MODELS (${process.env.LOWWATER_MODELS})` : '$LOWWATER_MODELS (unset)',
    defaultCacheDir(),
  ];
  io.stdout(`Model files are looked for in: ${dirs.join(', ')}\n`);
  for (const e of REGISTRY) {
    const src = e.kind === 'bundled' ? e.origin : `${e.model.file} <- ${e.model.url}`;
    io.stdout(`${e.name.padEnd(30)} ${e.task.padEnd(9)} ${e.description}\n${''.padEnd(41)}${src}`);
  }
  return 0;
}
