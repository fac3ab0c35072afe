/**
 * GraphBuilder: the one way importers and model builders make a Graph.
 * It assigns ids, infers output shapes (TF rules), checks declared shapes,
 * and fills producer/consumer links.
 */
import { describeShape, type DType, type Graph, type Op, type Quantization, type Tensor } from './ir.js';
import { classIdDtype, inferOutputShapes, ShapeError } from './shapes.js';

/** An op as the caller describes it: no id, no outputs (the builder makes them). */
export type OpSpec = Op extends infer O ? (O extends Op ? Omit<O, 'id' | 'outputs'> : never) : never;

export interface OutputSpec {
  name?: string;
  dtype?: DType;
  quant?: Quantization;
  /** Declared shape (required for reshape; checked against inference otherwise). */
  shape?: number[];
}

export class GraphBuilder {
  private readonly tensors: Tensor[] = [];
  private readonly ops: Op[] = [];
  private readonly inputs: number[] = [];
  private readonly outputs: number[] = [];

  constructor(private readonly name: string) {}

  private addTensor(name: string, shape: number[], dtype: DType, constant: boolean, quant?: Quantization): number {
    if (shape.some((d) => !Number.isInteger(d) || d < 0))
      throw new Error(`tensor '${name}': bad shape ${describeShape(shape)}`);
    const id = this.tensors.length;
    const t: Tensor = { id, name, shape: shape.slice(), dtype, constant, producer: -1, consumers: [] };
    if (quant) t.quant = quant;
    this.tensors.push(t);
    return id;
  }

  input(name: string, shape: number[], dtype: DType = 'f32', quant?: Quantization): number {
    const id = this.addTensor(name, shape, dtype, false, quant);
    this.inputs.push(id);
    return id;
  }

  constant(name: string, shape: number[], dtype: DType = 'f32', quant?: Quantization): number {
    return this.addTensor(name, shape, dtype, true, quant);
  }

  tensor(id: number): Tensor {
    const t = this.tensors[id];
    if (!t) throw new Error(`no tensor ${id}`);
    return t;
  }

  /** Adds an op with one output; returns the output tensor id. */
  op(spec: OpSpec, out: OutputSpec = {}): number {
    const id = this.ops.length;
    for (const i of spec.inputs) {
      const t = this.tensors[i];
      if (!t) throw new ShapeError(spec, `refers to missing tensor ${i}`);
      if (t.constant) throw new ShapeError(spec, `takes constant tensor '${t.name}' as an activation input`);
    }
    const op = { ...spec, id, outputs: [] as number[] } as Op;
    const inferred = inferOutputShapes({ tensors: this.tensors }, op)[0]!;
    let shape = inferred;
    if (op.kind === 'reshape') {
      if (!out.shape) throw new ShapeError(op, 'reshape needs a declared output shape');
      const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
      if (n(out.shape) !== n(inferred))
        throw new ShapeError(op, `cannot reshape ${describeShape(inferred)} to ${describeShape(out.shape)}`);
      shape = out.shape;
    } else if (out.shape && (out.shape.length !== inferred.length || out.shape.some((d, i) => d !== inferred[i]))) {
      throw new ShapeError(
        op,
        `declared output shape ${describeShape(out.shape)} but the inputs give ${describeShape(inferred)}`,
      );
    }
    const x = this.tensors[spec.inputs[0]!]!;
    const dtype =
      out.dtype ?? (op.kind === 'argmax' ? 'i32' : op.kind === 'resize_argmax' ? classIdDtype(x.shape[3]!) : x.dtype);
    const outId = this.addTensor(out.name ?? `${spec.name}:0`, shape, dtype, false, out.quant);
    op.outputs.push(outId);
    this.tensors[outId]!.producer = id;
    for (const i of spec.inputs) this.tensors[i]!.consumers.push(id);
    this.ops.push(op);
    return outId;
  }

  output(id: number): void {
    if (!this.tensors[id]) throw new Error(`no tensor ${id}`);
    this.outputs.push(id);
  }

  finish(): Graph {
    if (this.outputs.length === 0) throw new Error(`graph '${this.name}' has no outputs`);
    return { name: this.name, tensors: this.tensors, ops: this.ops, inputs: this.inputs, outputs: this.outputs };
  }
}

/**
 * Checks a graph's invariants: ids, producer/consumer links, topological op
 * order, and that every output shape matches the shape rules. Throws naming the
 * op and the tensor.
 */
export function validateGraph(g: Graph): void {
  g.tensors.forEach((t, i) => {
    if (t.id !== i) throw new Error(`tensor index ${i} has id ${t.id}`);
  });
  const written = new Set<number>(g.inputs);
  g.ops.forEach((op, i) => {
    if (op.id !== i) throw new Error(`op index ${i} ('${op.name}') has id ${op.id}`);
    for (const x of op.inputs) {
      const t = g.tensors[x];
      if (!t) throw new ShapeError(op, `refers to missing tensor ${x}`);
      if (!written.has(x))
        throw new ShapeError(op, `reads '${t.name}' before it is written (ops are not in topological order)`);
      if (!t.consumers.includes(op.id)) throw new ShapeError(op, `missing from the consumers of '${t.name}'`);
    }
    const shapes = inferOutputShapes(g, op);
    op.outputs.forEach((o, k) => {
      const t = g.tensors[o];
      if (!t) throw new ShapeError(op, `writes missing tensor ${o}`);
      if (t.producer !== op.id) throw new ShapeError(op, `is not the producer of '${t.name}'`);
      const s = shapes[k]!;
      const same =
        op.kind === 'reshape'
          ? s.reduce((a, b) => a * b, 1) === t.shape.reduce((a, b) => a * b, 1)
          : s.length === t.shape.length && s.every((d, j) => d === t.shape[j]);
      if (!same)
        throw new ShapeError(
          op,
          `output '${t.name}' has shape ${describeShape(t.shape)} but the rules give ${describeShape(s)}`,
        );
      written.add(o);
    });
  });
  for (const o of g.outputs)
    if (!written.has(o)) throw new Error(`graph output '${g.tensors[o]?.name ?? o}' is never written`);
}
