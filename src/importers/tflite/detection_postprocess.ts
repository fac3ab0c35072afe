/**
 * The one custom op the importer accepts: TFLite_Detection_PostProcess, the
 * tail of SSD models exported by the TF object-detection API. It is not a
 * graph op: the importer ends the graph at the op's inputs (box encodings and
 * class scores), reads its options (a FlexBuffer in custom_options) and its
 * anchors (a constant input), and src/detect runs it after the graph.
 *
 * A LOGISTIC that feeds only the op's scores (the export's score converter)
 * is folded in as well, so that the graph ends at the raw class logits.
 */
import { describeShape, type Quantization } from '../../../planner/ir.js';
import { readFlexMap } from '../../detect/flexbuffers.js';
import { parseDetectionPostProcessOptions, type DetectionPostProcessOptions } from '../../detect/postprocess.js';
import { TfliteFormatError, TfliteUnsupportedError } from './errors.js';
import type { TfliteFile, TfliteOperator, TfliteTensor } from './file.js';
import { Op, TensorType } from './schema.js';

export const DETECTION_POSTPROCESS = 'TFLite_Detection_PostProcess';
const LOGISTIC = 14;

export interface PostProcessSite {
  op: TfliteOperator;
  /** The LOGISTIC folded into the post-process, or null. */
  logistic: TfliteOperator | null;
  options: DetectionPostProcessOptions;
  /** TFLite tensor indices the graph ends at. */
  boxesTensor: number;
  scoresTensor: number;
  anchorsTensor: number;
  /** Box code size (last dimension of the box encodings) and score columns. */
  boxCodeSize: number;
  scoreColumns: number;
}

/**
 * Finds the post-process op and checks where it sits: one such op, three
 * inputs and four outputs, outputs read by no other op, shapes as the op
 * needs them. Returns null when the model has none.
 */
export function findDetectionPostProcess(f: TfliteFile, source: string): PostProcessSite | null {
  const bytes = f.reader.bytes;
  const isPost = (o: TfliteOperator) => {
    const c = f.opcodes[o.opcodeIndex];
    return c !== undefined && c.builtin === Op.CUSTOM && c.custom === DETECTION_POSTPROCESS;
  };
  const sites = f.operators.filter(isPost);
  if (sites.length === 0) return null;
  const label = (o: TfliteOperator) => `operator ${o.index} (CUSTOM '${DETECTION_POSTPROCESS}')`;
  const op = sites[0]!;
  if (sites.length > 1)
    throw new TfliteUnsupportedError(
      `${label(sites[1]!)}: the model has ${sites.length} ${DETECTION_POSTPROCESS} ops; lowwater runs one`,
      source,
    );
  const fail = (msg: string): never => {
    throw new TfliteFormatError(`${label(op)}: ${msg}`, op.offset, source);
  };
  if (op.inputs.length !== 3) fail(`has ${op.inputs.length} inputs, expected 3 (box encodings, class scores, anchors)`);
  if (op.outputs.length !== 4) fail(`has ${op.outputs.length} outputs, expected 4 (boxes, classes, scores, count)`);
  const tensor = (i: number, what: string): TfliteTensor =>
    f.tensors[i] ?? fail(`${what}: tensor index ${i} is out of range`);
  const readers = (i: number) => f.operators.filter((o) => o.inputs.includes(i));
  for (const out of op.outputs)
    if (readers(out).length > 0)
      throw new TfliteUnsupportedError(
        `${label(op)}: its output '${tensor(out, 'output').name}' is read by another operator; lowwater runs the post-process after the graph`,
        source,
      );

  const [boxesTensor, scoresIn, anchorsTensor] = op.inputs as [number, number, number];
  const boxes = tensor(boxesTensor, 'box encodings');
  const scores = tensor(scoresIn, 'class scores');
  const anchors = tensor(anchorsTensor, 'anchors');
  if (boxes.shape.length !== 3 || boxes.shape[0] !== 1 || !(boxes.shape[2]! >= 4))
    fail(`box encodings have shape ${describeShape(boxes.shape)}, expected [1, N, ≥4]`);
  const n = boxes.shape[1]!;
  if (scores.shape.length !== 3 || scores.shape[0] !== 1 || scores.shape[1] !== n)
    fail(`class scores have shape ${describeShape(scores.shape)}, expected [1, ${n}, classes]`);
  if (anchors.shape.length !== 2 || anchors.shape[0] !== n || anchors.shape[1] !== 4)
    fail(`anchors have shape ${describeShape(anchors.shape)}, expected [${n}, 4]`);

  if (!op.customOptions || op.customOptions.length === 0)
    fail('has no custom_options (its settings: max_detections, nms thresholds, num_classes, scales)');
  let options: DetectionPostProcessOptions;
  try {
    f.reader.load(op.customOptions!.start, op.customOptions!.length, `operator ${op.index} custom_options`);
    const raw = bytes.subarray(op.customOptions!.start, op.customOptions!.start + op.customOptions!.length);
    options = parseDetectionPostProcessOptions(readFlexMap(raw), label(op));
  } catch (e) {
    return fail(`custom_options: ${(e as Error).message}`);
  }
  const cols = scores.shape[2]!;
  if (cols - options.numClasses !== 0 && cols - options.numClasses !== 1)
    fail(
      `class scores have ${cols} columns for num_classes ${options.numClasses} (expected ${options.numClasses} or ${options.numClasses + 1} with background)`,
    );

  // The export's score converter: a LOGISTIC whose output only this op reads.
  const producer = f.operators.find((o) => o.outputs.includes(scoresIn));
  const code = producer ? f.opcodes[producer.opcodeIndex] : undefined;
  const logistic =
    producer && code?.builtin === LOGISTIC && readers(scoresIn).length === 1 && !f.outputs.includes(scoresIn)
      ? producer
      : null;
  const scoresTensor = logistic ? logistic.inputs[0]! : scoresIn;
  return {
    op,
    logistic,
    options,
    boxesTensor,
    scoresTensor,
    anchorsTensor,
    boxCodeSize: boxes.shape[2]!,
    scoreColumns: cols,
  };
}

/** The uint8/int8 grid of a file tensor, when it has one. */
export function gridOf(t: TfliteTensor): { quant: Quantization; dtype: 'u8' | 'i8' } | undefined {
  const dtype = t.type === TensorType.UINT8 ? 'u8' : t.type === TensorType.INT8 ? 'i8' : undefined;
  if (!dtype || !t.quant || t.quant.scale.length !== 1) return undefined;
  return { quant: { scale: [t.quant.scale[0]!], zeroPoint: [t.quant.zeroPoint[0]!], axis: 0 }, dtype };
}
