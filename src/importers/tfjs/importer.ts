/**
 * tfjs layers-model importer: `model.json` (Keras model config in
 * `modelTopology`, weights in `weightsManifest`) plus the concatenated weight
 * shards → a lowwater float32 graph, with BatchNormalization, ZeroPadding2D
 * and ReLU folded into the convolutions.
 */
import { GraphBuilder, validateGraph } from '../../../planner/builder.js';
import { describeShape, type Padding } from '../../../planner/ir.js';
import { convOutSize, samePadding } from '../../../planner/shapes.js';
import { LazyConstants, type ConstData, type InputNormalization, type LoadedModel } from '../../model.js';
import { foldLayerOps } from './fold.js';
import { lowerLayer, WeightLookup, type Lop, type Values } from './layers.js';
import { describeLayer, flattenModel } from './topology.js';
import { indexWeights, parseWeightsManifest, TfjsModelError } from './weights.js';

export interface TfjsImportOptions {
  /** How pixels become the model's input (default: the raw values, affine scale 1 offset 0). */
  normalization?: InputNormalization;
  labels?: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Imports a tfjs layers model: the graph from the topology and the manifest's
 * shapes; each constant is computed (decoded, transposed, BatchNorm folded)
 * only when the executor asks for it, after planning. `weightData` is every
 * shard of every weight group, concatenated in manifest order, or a function
 * that reads them when first needed. `source` names the model in errors.
 */
export function importTfjsLayersModel(
  modelJson: object,
  weightData: Uint8Array | ArrayBuffer | (() => Uint8Array),
  source: string,
  options: TfjsImportOptions = {},
): LoadedModel {
  if (!isRecord(modelJson)) throw new TfjsModelError(source, 'model.json is not an object');
  if (modelJson.format === 'graph-model')
    throw new TfjsModelError(
      source,
      "this is a tfjs graph model ('format: graph-model'); lowwater reads layers models",
    );
  const groups = parseWeightsManifest(modelJson.weightsManifest, source);
  let data: Uint8Array | null =
    typeof weightData === 'function'
      ? null
      : weightData instanceof Uint8Array
        ? weightData
        : new Uint8Array(weightData);
  const bytes = (): Uint8Array => (data ??= (weightData as () => Uint8Array)());
  const weights = new WeightLookup(indexWeights(groups, bytes, source), source);
  const flat = flattenModel(modelJson.modelTopology, source);

  const lops: Lop[] = flat.nodes.flatMap((n) => lowerLayer(n, weights, source));
  const ops = foldLayerOps(lops, flat.outputs, source);

  if (flat.inputs.length !== 1)
    throw new TfjsModelError(source, `the model has ${flat.inputs.length} inputs; lowwater takes one image input`);
  const input = flat.inputs[0]!;
  if (input.shape.length !== 3 || input.shape.some((d) => d === null || !Number.isInteger(d) || d < 1)) {
    throw new TfjsModelError(
      source,
      `${describeLayer(input.layer)}: input shape [${input.shape.map(String).join(',')}] is not a fixed image size [H,W,C]`,
    );
  }

  const g = new GraphBuilder(flat.name);
  /** How each constant is computed (read, transposed, folded) when the executor asks for it. */
  const reads = new Map<number, () => ConstData>();
  const tensorOf = new Map<string, number>();
  tensorOf.set(input.key, g.input(input.key, [1, ...(input.shape as number[])], 'f32'));
  const constant = (name: string, shape: number[], values: Values): number => {
    const id = g.constant(name, shape, 'f32');
    reads.set(id, () => Float32Array.from(values())); // float64 → nearest float32
    return id;
  };

  for (const op of ops) {
    const at: (m: string) => never = (m) => {
      throw new TfjsModelError(source, `${describeLayer(op.layer)}: ${m}`);
    };
    const ins = op.ins.map((k) => tensorOf.get(k) ?? at(`input '${k}' is never produced`));
    const x = g.tensor(ins[0]!);
    const name = [...op.layer.path, op.layer.name].join('/') + (op.nameSuffix ?? '');
    const emit = (f: () => number): number => {
      try {
        return f();
      } catch (e) {
        if (e instanceof TfjsModelError) throw e;
        return at((e as Error).message);
      }
    };
    let y: number;
    switch (op.kind) {
      case 'conv': {
        if (x.shape.length !== 4) at(`needs an NHWC input, got ${describeShape(x.shape)}`);
        const pad: Padding =
          op.padding === 'same' ? samePadding(x.shape[1]!, x.shape[2]!, op.kernel, op.stride, op.dilation) : op.padding;
        const w = constant(`${name}/weights`, op.wShape, op.w);
        const outC = op.depthwise ? op.wShape[3] : op.wShape[0];
        const b = constant(`${name}/bias`, [outC], op.bias ?? (() => new Float64Array(outC)));
        const common = {
          name,
          inputs: [ins[0]!],
          kernel: op.kernel,
          stride: op.stride,
          dilation: op.dilation,
          pad,
          act: op.act,
          weights: w,
          bias: b,
        };
        y = emit(() =>
          op.depthwise
            ? g.op({ kind: 'dwconv2d', ...common, depthMultiplier: op.depthMultiplier }, { name: op.out })
            : g.op({ kind: 'conv2d', ...common }, { name: op.out }),
        );
        break;
      }
      case 'add': {
        // Keras Add takes N inputs: a chain of binary adds; the activation applies to the last.
        let acc = ins[0]!;
        for (let i = 1; i < ins.length; i++) {
          const last = i === ins.length - 1;
          const a = acc;
          acc = emit(() =>
            g.op(
              { kind: 'add', name: last ? name : `${name}/${i}`, inputs: [a, ins[i]!], act: last ? op.act : 'none' },
              last ? { name: op.out } : {},
            ),
          );
        }
        y = acc;
        break;
      }
      case 'global_avgpool':
        y = emit(() =>
          g.op({ kind: 'global_avgpool', name, inputs: [ins[0]!], keepDims: op.keepDims }, { name: op.out }),
        );
        break;
      case 'avgpool': {
        if (x.shape.length !== 4) at(`needs an NHWC input, got ${describeShape(x.shape)}`);
        const [h, w] = [x.shape[1]!, x.shape[2]!];
        const [kh, kw] = op.kernel;
        const [sh, sw] = op.stride;
        // The window covers the whole plane and yields one pixel: a global average (padded pixels are not counted).
        const covers =
          op.padding === 'valid'
            ? kh === h && kw === w
            : kh >= h && kw >= w && Math.ceil(h / sh) === 1 && Math.ceil(w / sw) === 1;
        if (covers) {
          y = emit(() => g.op({ kind: 'global_avgpool', name, inputs: [ins[0]!], keepDims: true }, { name: op.out }));
        } else {
          const pad =
            op.padding === 'same' ? samePadding(h, w, op.kernel, op.stride) : { top: 0, bottom: 0, left: 0, right: 0 };
          if (convOutSize(h, kh, sh, 1, pad.top, pad.bottom) < 1 || convOutSize(w, kw, sw, 1, pad.left, pad.right) < 1)
            at(`pool ${kh}x${kw} does not fit input ${describeShape(x.shape)}`);
          y = emit(() =>
            g.op(
              { kind: 'avgpool', name, inputs: [ins[0]!], kernel: op.kernel, stride: op.stride, pad, act: 'none' },
              { name: op.out },
            ),
          );
        }
        break;
      }
      case 'reshape': {
        const n = x.shape.slice(1).reduce((a, b) => a * b, 1);
        let target: number[];
        if (op.target === null) target = [n];
        else {
          target = op.target.slice();
          const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
          const free = target.indexOf(-1);
          if (free >= 0) {
            if (n % known !== 0) at(`cannot reshape ${describeShape(x.shape)} to [${op.target.join(',')}]`);
            target[free] = n / known;
          }
        }
        y = emit(() => g.op({ kind: 'reshape', name, inputs: [ins[0]!] }, { name: op.out, shape: [1, ...target] }));
        break;
      }
      case 'dense': {
        // Keras Dense acts on the last axis; lowwater's fully_connected flattens its input, which is the same
        // only when every other axis is 1. The output keeps Keras's rank.
        if (x.shape.slice(0, -1).some((d) => d !== 1))
          at(`Dense on input ${describeShape(x.shape)} (only [1,…,1,K] inputs are supported)`);
        const w = constant(`${name}/weights`, [op.units, op.inFeatures], op.w);
        const b = op.bias ? constant(`${name}/bias`, [op.units], op.bias) : -1;
        const rank = x.shape.length;
        y = emit(() =>
          g.op(
            { kind: 'fully_connected', name, inputs: [ins[0]!], act: op.act, weights: w, bias: b },
            rank === 2 ? { name: op.out } : {},
          ),
        );
        if (rank !== 2) {
          const fc = y;
          y = emit(() =>
            g.op(
              { kind: 'reshape', name: `${name}/reshape`, inputs: [fc] },
              { name: op.out, shape: [...x.shape.slice(0, -1), op.units] },
            ),
          );
        }
        break;
      }
      case 'softmax':
        y = emit(() => g.op({ kind: 'softmax', name, inputs: [ins[0]!], beta: 1 }, { name: op.out }));
        break;
      case 'zeropad':
      case 'batchnorm':
      case 'act':
        return at(`internal: ${op.kind} left after folding`);
    }
    tensorOf.set(op.out, y);
  }
  for (const o of flat.outputs) {
    const id = tensorOf.get(o);
    if (id === undefined) throw new TfjsModelError(source, `model output '${o}' is never produced`);
    g.output(id);
  }
  const graph = g.finish();
  validateGraph(graph);
  const [, height, width, channels] = graph.tensors[graph.inputs[0]!]!.shape as [number, number, number, number];
  const model: LoadedModel = {
    source,
    format: 'tfjs',
    graph,
    constants: new LazyConstants(
      reads,
      source,
      () => {
        // The weights are in the executor's memory: drop the shards' bytes (or the reader that would read them).
        data = null;
        weightData = () => {
          throw new TfjsModelError(source, 'the weights were released after loading; load the model again');
        };
      },
      () => data?.byteLength ?? 0,
    ),
    input: { height, width, channels, normalization: options.normalization ?? { kind: 'affine', scale: 1, offset: 0 } },
  };
  if (options.labels) model.labels = options.labels.slice();
  return model;
}
