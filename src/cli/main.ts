/**
 * lowwater command line: dispatches to one file per command.
 */
import { classifyCommand } from './classify.js';
import { writeFile } from 'node:fs/promises';
import { modelsCommand } from './models.js';
import { planCommand } from './plan.js';
import { segmentCommand } from './segment.js';
import { detectCommand } from './detect.js';
import { profileCommand } from './profile.js';
import { loadTfliteFile } from '../importers/tflite/index.js';
import { processIO, UsageError, type CliIO } from './io.js';

const HELP = `lowwater — a memory-planning inference runtime for MobileNetV2-family networks

Usage: lowwater <command> [options]

Commands:
  classify IMAGE...   label images with a MobileNetV2 (default: the nsfwjs model)
  segment IMAGE...    label every pixel with Mobile DeepLabv3 (PASCAL VOC classes); mask PNG, overlay
  detect IMAGE...     find objects with an SSD/SSDLite .tflite (TFLite_Detection_PostProcess); boxes PNG
  plan                plan execution order, Section 5.1 chunks and arena offsets; report memory
  profile MODEL [IMAGE]
                      where the time goes: per op or fused block, time, MACs, bytes, share
                      (--tflite: TFLite-WASM's own per-op profile of the same file beside it)
  models              list the registry's model names and where their files are looked for

Run 'lowwater <command> --help' for a command's options.
`;

type Command = (argv: string[], io: CliIO) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  classify: classifyCommand,
  models: modelsCommand,
  segment: segmentCommand,
  detect: detectCommand,
  profile: profileCommand,
  plan: (argv, io) =>
    planCommand(argv, {
      ...io,
      loadGraph: async (file) => (await loadTfliteFile(file)).graph,
      writeFile: (path, data) => writeFile(path, data),
    }),
};

export async function run(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(HELP);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr(`lowwater: unknown command '${name}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await cmd(rest, io);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`lowwater ${name}: ${err.message}\nRun 'lowwater ${name} --help' for usage.`);
      return 2;
    }
    io.stderr(`lowwater ${name}: ${err.message}`);
    if (process.env.LOWWATER_DEBUG) io.stderr(err.stack ?? '');
    return 1;
  }
}
