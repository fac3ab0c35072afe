/**
 * Keras model config (tfjs `modelTopology`) → a flat list of layer
 * applications in topological order.
 *
 * Handles the functional format (`Model`/`Functional`: `layers` with
 * `inbound_nodes`, `input_layers`, `output_layers`), `Sequential` (a layer
 * list, or `{name, layers}`), and models nested as layers inside either; a
 * nested model is inlined. Each layer output gets a string key; InputLayers
 * of nested models, nested-model boundaries, Dropout and Activation('linear')
 * become aliases, so
 * the node list holds only layers that compute something.
 */
import { TfjsModelError } from './weights.js';

export interface KerasLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
  /** Enclosing nested models, outermost first (for error messages). */
  path: string[];
}

export interface LayerNode {
  layer: KerasLayer;
  inputs: string[];
  output: string;
}

export interface GraphInput {
  key: string;
  layer: KerasLayer;
  /** `batch_input_shape` without the batch dimension. */
  shape: (number | null)[];
}

export interface FlatModel {
  name: string;
  inputs: GraphInput[];
  nodes: LayerNode[];
  outputs: string[];
}

const MODEL_CLASSES = new Set(['Model', 'Functional', 'Sequential']);
/** Layers that are the identity at inference. */
const IDENTITY_CLASSES = new Set(['Dropout', 'SpatialDropout2D', 'GaussianDropout', 'GaussianNoise', 'AlphaDropout']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describeLayer(l: Pick<KerasLayer, 'className' | 'name' | 'path'>): string {
  const inside = l.path.length ? ` (inside ${l.path.map((p) => `'${p}'`).join(' > ')})` : '';
  return `${l.className} layer '${l.name}'${inside}`;
}

/** The model config inside a tfjs `modelTopology`: Keras's `{model_config: …}` or tfjs's bare `{class_name, config}`. */
export function modelConfigOf(topology: unknown, source: string): Record<string, unknown> {
  if (!isRecord(topology))
    throw new TfjsModelError(
      source,
      "'modelTopology' is missing or not an object (is this a tfjs graph model rather than a layers model?)",
    );
  const mc = isRecord(topology.model_config) ? topology.model_config : topology;
  if (typeof mc.class_name !== 'string') throw new TfjsModelError(source, "'modelTopology' has no model 'class_name'");
  return mc;
}

class Flattener {
  readonly nodes: LayerNode[] = [];
  readonly inputs: GraphInput[] = [];
  private readonly alias = new Map<string, string>();
  private readonly keys = new Set<string>();

  constructor(private readonly source: string) {}

  fail(layer: Pick<KerasLayer, 'className' | 'name' | 'path'> | null, msg: string): never {
    throw new TfjsModelError(this.source, layer ? `${describeLayer(layer)}: ${msg}` : msg);
  }

  resolve(key: string): string {
    let k = key;
    for (let n = 0; this.alias.has(k); n++) {
      if (n > 10000) this.fail(null, `alias cycle at '${key}'`);
      k = this.alias.get(k)!;
    }
    return k;
  }

  private newKey(path: string[], name: string, tensorIndex: number): string {
    const key = [...path, name].join('/') + `:${tensorIndex}`;
    if (this.keys.has(key)) this.fail(null, `two layers are named '${[...path, name].join('/')}'`);
    this.keys.add(key);
    return key;
  }

  private layerOf(raw: unknown, path: string[], index: number): KerasLayer {
    if (!isRecord(raw) || typeof raw.class_name !== 'string')
      this.fail(null, `layer #${index}${path.length ? ` of '${path.join('/')}'` : ''} has no class_name`);
    const r = raw as Record<string, unknown>;
    const config = isRecord(r.config) ? r.config : Array.isArray(r.config) ? { layers: r.config } : {};
    const name =
      typeof r.name === 'string'
        ? r.name
        : typeof config.name === 'string'
          ? config.name
          : `${r.class_name as string}_${index}`;
    return { className: r.class_name as string, name, config, path };
  }

  /** Adds a model; returns its output keys. `boundInputs` binds a nested model's inputs to outer keys. */
  model(
    className: string,
    config: Record<string, unknown>,
    path: string[],
    boundInputs: string[] | null,
    self: KerasLayer | null,
  ): string[] {
    if (className === 'Sequential') return this.sequential(config, path, boundInputs, self);
    return this.functional(config, path, boundInputs, self);
  }

  private addLayer(layer: KerasLayer, inputs: string[]): string[] {
    if (MODEL_CLASSES.has(layer.className)) {
      return this.model(layer.className, layer.config, [...layer.path, layer.name], inputs, layer);
    }
    const out = this.newKey(layer.path, layer.name, 0);
    if (layer.className === 'InputLayer') {
      // Only top-level models get here: a nested model's InputLayers are bound to the outer tensors.
      this.inputs.push({ key: out, layer, shape: this.inputShape(layer) });
      return [out];
    }
    const linear = layer.className === 'Activation' && (layer.config.activation ?? 'linear') === 'linear';
    if (IDENTITY_CLASSES.has(layer.className) || linear) {
      if (inputs.length !== 1) this.fail(layer, `expects 1 input, got ${inputs.length}`);
      this.alias.set(out, inputs[0]!);
      return [out];
    }
    this.nodes.push({ layer, inputs: inputs.map((k) => this.resolve(k)), output: out });
    return [out];
  }

  private inputShape(layer: KerasLayer): (number | null)[] {
    const s = layer.config.batch_input_shape ?? layer.config.batchInputShape;
    if (!Array.isArray(s) || s.length < 2) this.fail(layer, `has no batch_input_shape (got ${JSON.stringify(s)})`);
    return (s as unknown[]).slice(1).map((d) => (d === null ? null : Number(d)));
  }

  private sequential(
    config: Record<string, unknown>,
    path: string[],
    boundInputs: string[] | null,
    self: KerasLayer | null,
  ): string[] {
    const layers = Array.isArray(config.layers) ? config.layers : null;
    if (!layers || layers.length === 0) this.fail(self, 'Sequential model without layers');
    let cur: string[] | null = boundInputs;
    if (cur && cur.length !== 1) this.fail(self, `a Sequential model takes 1 input, got ${cur.length}`);
    layers.forEach((raw, i) => {
      const layer = this.layerOf(raw, path, i);
      if (layer.className === 'InputLayer') {
        if (i !== 0) this.fail(layer, 'InputLayer that is not the first layer of a Sequential model');
        if (cur) return; // a nested Sequential: its input is the outer tensor
        cur = this.addLayer(layer, []);
        return;
      }
      if (!cur) {
        // First layer of a top-level Sequential: its batch_input_shape defines the model input,
        // unless it is a model that brings its own InputLayer.
        if (MODEL_CLASSES.has(layer.className)) {
          cur = this.model(layer.className, layer.config, [...path, layer.name], null, layer);
          return;
        }
        const key = this.newKey(path, `${layer.name}_input`, 0);
        this.inputs.push({ key, layer, shape: this.inputShape(layer) });
        cur = [key];
      }
      if (cur.length !== 1) this.fail(layer, `follows a layer with ${cur.length} outputs in a Sequential model`);
      cur = this.addLayer(layer, cur);
    });
    return cur!;
  }

  private refKey(ref: unknown, produced: Map<string, string[]>, owner: KerasLayer | null): string | null {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string')
      this.fail(owner, `bad tensor reference ${JSON.stringify(ref)}`);
    const [name, , tensorIndex] = ref as [string, number, number];
    const outs = produced.get(name);
    if (!outs) return null;
    const k = outs[tensorIndex ?? 0];
    if (k === undefined) this.fail(owner, `refers to output ${tensorIndex} of '${name}', which has ${outs.length}`);
    return k;
  }

  private functional(
    config: Record<string, unknown>,
    path: string[],
    boundInputs: string[] | null,
    self: KerasLayer | null,
  ): string[] {
    const rawLayers = config.layers;
    if (!Array.isArray(rawLayers)) this.fail(self, "functional model config has no 'layers' array");
    const layers = rawLayers.map((r, i) => ({ layer: this.layerOf(r, path, i), raw: r as Record<string, unknown> }));
    const inputLayers = Array.isArray(config.input_layers) ? config.input_layers : [];
    const outputLayers = Array.isArray(config.output_layers) ? config.output_layers : [];
    if (outputLayers.length === 0) this.fail(self, "functional model config has no 'output_layers'");
    const produced = new Map<string, string[]>();
    const byName = new Map(layers.map((l) => [l.layer.name, l]));
    // Bind the model's inputs.
    inputLayers.forEach((ref, i) => {
      const name = Array.isArray(ref) ? ref[0] : undefined;
      const entry = typeof name === 'string' ? byName.get(name) : undefined;
      if (!entry) this.fail(self, `input_layers[${i}] names no layer of the model: ${JSON.stringify(ref)}`);
      if (entry.layer.className !== 'InputLayer')
        this.fail(entry.layer, 'listed in input_layers but is not an InputLayer');
      if (boundInputs) {
        if (boundInputs.length !== inputLayers.length)
          this.fail(self, `takes ${inputLayers.length} inputs but is called with ${boundInputs.length}`);
        const key = this.newKey(path, name as string, 0);
        this.alias.set(key, boundInputs[i]!);
        produced.set(name as string, [key]);
      } else {
        produced.set(name as string, this.addLayer(entry.layer, []));
      }
    });
    // Kahn-style: add every layer once all its inputs exist, in file order.
    const pending = layers.filter((l) => !produced.has(l.layer.name));
    while (pending.length > 0) {
      let progressed = false;
      for (let p = 0; p < pending.length; p++) {
        const { layer, raw } = pending[p]!;
        const nodes = Array.isArray(raw.inbound_nodes) ? raw.inbound_nodes : null;
        if (!nodes) this.fail(layer, "has no 'inbound_nodes' (a functional model layer needs them)");
        if (layer.className === 'InputLayer') this.fail(layer, 'InputLayer not listed in input_layers');
        if (nodes.length === 0) this.fail(layer, 'is never called (no inbound nodes)');
        if (nodes.length > 1) this.fail(layer, `is called ${nodes.length} times; shared layers are not supported`);
        const node = nodes[0];
        // Keras 2: a node is [[name, nodeIndex, tensorIndex, kwargs], …]; Keras 3 uses {args, kwargs}.
        if (!Array.isArray(node))
          this.fail(
            layer,
            'inbound node is not a list of [layer, node, tensor] references (Keras 3 configs are not supported)',
          );
        const keys = (node as unknown[]).map((ref) => this.refKey(ref, produced, layer));
        if (keys.some((k) => k === null)) continue;
        produced.set(layer.name, this.addLayer(layer, keys as string[]));
        pending.splice(p, 1);
        p--;
        progressed = true;
      }
      if (!progressed) {
        const l = pending[0]!.layer;
        this.fail(l, 'its inputs are never produced (unknown layer name or a cycle)');
      }
    }
    return outputLayers.map((ref) => {
      const k = this.refKey(ref, produced, self);
      if (k === null) this.fail(self, `output_layers names no layer of the model: ${JSON.stringify(ref)}`);
      return k;
    });
  }
}

/** Flattens a tfjs `modelTopology` into layer applications (aliases resolved). */
export function flattenModel(topology: unknown, source: string): FlatModel {
  const mc = modelConfigOf(topology, source);
  const className = mc.class_name as string;
  if (!MODEL_CLASSES.has(className))
    throw new TfjsModelError(source, `model class '${className}' is not supported (Model, Functional or Sequential)`);
  const config = isRecord(mc.config) ? mc.config : Array.isArray(mc.config) ? { layers: mc.config } : {};
  const f = new Flattener(source);
  const outputs = f.model(className, config, [], null, null).map((k) => f.resolve(k));
  if (f.inputs.length === 0) throw new TfjsModelError(source, 'the model has no input layer');
  const name = typeof config.name === 'string' ? config.name : 'model';
  return { name, inputs: f.inputs, nodes: f.nodes, outputs };
}
