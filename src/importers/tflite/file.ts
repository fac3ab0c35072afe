/**
 * Reads a .tflite file's structure (main subgraph, tensors, buffers,
 * quantization, operator codes, operators) into plain objects. Every read is
 * bounds-checked (flatbuf.ts); nothing here interprets op semantics.
 */
import { FlatReader, type Table } from './flatbuf.js';
import { MemorySource, type ByteSource } from '../byte_source.js';
import { readableName } from '../../errors.js';
import { F, FILE_IDENTIFIER } from './schema.js';

export interface TfliteQuant {
  scale: number[];
  zeroPoint: number[];
  /** quantized_dimension */
  axis: number;
  /** A `details` union is set (custom quantization: scale/zero_point are then meaningless). */
  hasDetails: boolean;
  /** Byte offset of the QuantizationParameters table. */
  offset: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  /** TensorType value. */
  type: number;
  buffer: number;
  quant: TfliteQuant | null;
  isVariable: boolean;
  sparse: boolean;
  /** Byte offset of the Tensor table. */
  offset: number;
}

export interface TfliteOpCode {
  /** Effective builtin code: max(deprecated_builtin_code, builtin_code) (schema 3a). */
  builtin: number;
  custom: string | null;
  version: number;
}

export interface TfliteOperator {
  index: number;
  opcodeIndex: number;
  /** Tensor indices; -1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  optionsType: number;
  options: Table | null;
  /** Location of custom_options (custom ops: a FlexBuffer), or null. */
  customOptions: TfliteBufferRef | null;
  /** Byte offset of the Operator table. */
  offset: number;
}

/** Location of a buffer's bytes inside the file (length 0 = no data). */
export interface TfliteBufferRef {
  start: number;
  length: number;
}

export interface TfliteFile {
  reader: FlatReader;
  version: number;
  opcodes: TfliteOpCode[];
  subgraphCount: number;
  /** The main (first) subgraph. */
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
  subgraphName: string;
  /** Byte offset of the main SubGraph table (where subgraph-level problems are reported). */
  subgraphOffset: number;
  bufferCount: number;
  /** The bytes of buffer `i`, bounds-checked; throws for a bad index. */
  buffer(i: number, what: string): TfliteBufferRef;
}

export function hasTfliteIdentifier(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 4; i++) if (bytes[4 + i] !== FILE_IDENTIFIER.charCodeAt(i)) return false;
  return true;
}

function readQuant(t: Table | null, tensor: string): TfliteQuant | null {
  if (!t) return null;
  const Q = F.QuantizationParameters;
  const scale = t.float32Vector(Q.scale, 'scale') ?? [];
  const zp = t.int64Vector(Q.zero_point, 'zero_point') ?? [];
  const hasDetails = t.uint8(Q.details_type, 0, 'details_type') !== 0;
  const axis = t.int32(Q.quantized_dimension, 0, 'quantized_dimension');
  if (scale.length === 0 && zp.length === 0 && !hasDetails) return null;
  // Zero points are small integers (uint8/int8 ranges); one beyond a double's exact range is refused here,
  // where its int64 value can still be shown.
  const big = zp.find((z) => z < -(1n << 53n) || z > 1n << 53n);
  if (big !== undefined) t.r.fail(`${tensor}: zero point ${big} is not a usable quantization zero point`, t.pos);
  const zeroPoint = zp.map((z) => Number(z));
  return { scale, zeroPoint, axis, hasDetails, offset: t.pos };
}

function readTensor(t: Table, index: number): TfliteTensor {
  const T = F.Tensor;
  const shape = t.int32Vector(T.shape, 'shape') ?? [];
  const name = t.string(T.name, 'name') ?? `tensor_${index}`;
  return {
    index,
    name,
    shape,
    type: t.int8(T.type, 0, 'type'),
    buffer: t.uint32(T.buffer, 0, 'buffer'),
    quant: readQuant(t.table(T.quantization, 'quantization'), `tensor ${index} '${readableName(name)}'`),
    isVariable: t.bool(T.is_variable, false, 'is_variable'),
    sparse: t.has(T.sparsity),
    offset: t.pos,
  };
}

/**
 * Parses the structure of a TFLite model. Throws TfliteFormatError (with the
 * byte offset) for anything that is not a well-formed TFLite flatbuffer.
 */
export function readTfliteFile(input: Uint8Array | ByteSource, source?: string): TfliteFile {
  const src = input instanceof Uint8Array ? new MemorySource(input, source ?? 'model bytes') : input;
  const { bytes, ensure } = src.tables;
  const r: FlatReader = new FlatReader(bytes, source, ensure);
  if (bytes.length < 8) r.fail(`file is ${bytes.length} bytes, too short for a FlatBuffer header`, 0);
  r.load(0, 8, 'file header');
  if (!hasTfliteIdentifier(bytes)) {
    const id = Array.from(bytes.subarray(4, 8), (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '?')).join('');
    r.fail(`file identifier is '${id}', expected '${FILE_IDENTIFIER}' (not a TFLite model)`, 4);
  }
  const model = r.root('Model');
  const M = F.Model;
  const version = model.uint32(M.version, 0, 'version');

  const codesV = model.tableVector(M.operator_codes, 'operator_codes');
  const opcodes: TfliteOpCode[] = [];
  for (let i = 0; i < (codesV?.length ?? 0); i++) {
    const c = codesV!.get(i, `OperatorCode ${i}`);
    const C = F.OperatorCode;
    const deprecated = c.int8(C.deprecated_builtin_code, 0, 'deprecated_builtin_code');
    const extended = c.int32(C.builtin_code, 0, 'builtin_code');
    // Schema 3a: old files only set the int8 field, new ones set both (the int8 one to
    // PLACEHOLDER_FOR_GREATER_OP_CODES = 127 for codes ≥ 127); the larger is the real code.
    opcodes.push({
      builtin: Math.max(deprecated, extended),
      custom: c.string(C.custom_code, 'custom_code'),
      version: c.int32(C.version, 1, 'version'),
    });
  }

  const subV = model.tableVector(M.subgraphs, 'subgraphs');
  if (!subV || subV.length === 0) r.fail('the model has no subgraphs', model.pos);
  const sg = subV.get(0, 'SubGraph 0');
  const S = F.SubGraph;
  const tensorsV = sg.tableVector(S.tensors, 'tensors');
  const tensors: TfliteTensor[] = [];
  for (let i = 0; i < (tensorsV?.length ?? 0); i++) tensors.push(readTensor(tensorsV!.get(i, `Tensor ${i}`), i));

  const opsV = sg.tableVector(S.operators, 'operators');
  const operators: TfliteOperator[] = [];
  for (let i = 0; i < (opsV?.length ?? 0); i++) {
    const o = opsV!.get(i, `Operator ${i}`);
    const O = F.Operator;
    const opt = o.union(O.builtin_options_type, 'builtin_options');
    operators.push({
      index: i,
      opcodeIndex: o.uint32(O.opcode_index, 0, 'opcode_index'),
      inputs: o.int32Vector(O.inputs, 'inputs') ?? [],
      outputs: o.int32Vector(O.outputs, 'outputs') ?? [],
      optionsType: opt.type,
      options: opt.table,
      customOptions: o.vector(O.custom_options, 1, 'custom_options'),
      offset: o.pos,
    });
  }

  const buffersV = model.tableVector(M.buffers, 'buffers');
  const bufferCache = new Map<number, TfliteBufferRef>();
  const buffer = (i: number, what: string): TfliteBufferRef => {
    const hit = bufferCache.get(i);
    if (hit) return hit;
    if (!buffersV || i < 0 || i >= buffersV.length)
      r.fail(`${what}: buffer index ${i} is out of range (the model has ${buffersV?.length ?? 0} buffers)`, model.pos);
    const b = buffersV.get(i, `Buffer ${i}`);
    const B = F.Buffer;
    let ref: TfliteBufferRef;
    const data = b.vector(B.data, 1, 'data');
    if (data && data.length > 0) ref = data;
    else {
      // Schema 3c: data of models > 2 GB lives outside the flatbuffer at an offset from the file start (valid when > 1).
      const off = b.uint64(B.offset, 0n, 'offset');
      const size = b.uint64(B.size, 0n, 'size');
      if (off > 1n) {
        if (off + size > BigInt(bytes.length))
          r.fail(`Buffer ${i}: external data [${off}, ${off + size}) runs past the end of the file`, b.pos);
        ref = { start: Number(off), length: Number(size) };
        r.charge(ref.length, b.pos, `Buffer ${i}`);
      } else ref = { start: 0, length: 0 };
    }
    bufferCache.set(i, ref);
    return ref;
  };

  return {
    reader: r,
    version,
    opcodes,
    subgraphCount: subV.length,
    tensors,
    inputs: sg.int32Vector(S.inputs, 'inputs') ?? [],
    outputs: sg.int32Vector(S.outputs, 'outputs') ?? [],
    operators,
    subgraphName: sg.string(S.name, 'name') ?? '',
    subgraphOffset: sg.pos,
    bufferCount: buffersV?.length ?? 0,
    buffer,
  };
}
