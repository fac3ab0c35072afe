/**
 * The parts of the TFLite FlatBuffers schema (tensorflow/lite/schema/schema.fbs,
 * file identifier "TFL3") that lowwater reads: field ids of each table (a
 * union takes two ids: its `_type` tag, then the value), and enum values.
 */

export const FILE_IDENTIFIER = 'TFL3';

/** Field ids, in schema declaration order. */
export const F = {
  Model: { version: 0, operator_codes: 1, subgraphs: 2, description: 3, buffers: 4 },
  OperatorCode: { deprecated_builtin_code: 0, custom_code: 1, version: 2, builtin_code: 3 },
  SubGraph: { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 },
  Buffer: { data: 0, offset: 1, size: 2 },
  Tensor: { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, is_variable: 5, sparsity: 6, shape_signature: 7 },
  QuantizationParameters: {
    min: 0,
    max: 1,
    scale: 2,
    zero_point: 3,
    details_type: 4,
    details: 5,
    quantized_dimension: 6,
  },
  Operator: { opcode_index: 0, inputs: 1, outputs: 2, builtin_options_type: 3, builtin_options: 4, custom_options: 5 },
  Conv2DOptions: {
    padding: 0,
    stride_w: 1,
    stride_h: 2,
    fused_activation_function: 3,
    dilation_w_factor: 4,
    dilation_h_factor: 5,
  },
  DepthwiseConv2DOptions: {
    padding: 0,
    stride_w: 1,
    stride_h: 2,
    depth_multiplier: 3,
    fused_activation_function: 4,
    dilation_w_factor: 5,
    dilation_h_factor: 6,
  },
  Pool2DOptions: {
    padding: 0,
    stride_w: 1,
    stride_h: 2,
    filter_width: 3,
    filter_height: 4,
    fused_activation_function: 5,
  },
  FullyConnectedOptions: { fused_activation_function: 0, weights_format: 1, keep_num_dims: 2 },
  SoftmaxOptions: { beta: 0 },
  ConcatenationOptions: { axis: 0, fused_activation_function: 1 },
  AddOptions: { fused_activation_function: 0 },
  ResizeBilinearOptions: { new_height: 0, new_width: 1, align_corners: 2, half_pixel_centers: 3 },
  ReshapeOptions: { new_shape: 0 },
  ReducerOptions: { keep_dims: 0 },
  SqueezeOptions: { squeeze_dims: 0 },
  ArgMaxOptions: { output_type: 0 },
} as const;

/** BuiltinOptions union tags (1-based position in the union; 0 = NONE). */
export const OPTIONS = {
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ResizeBilinearOptions: 15,
  ReshapeOptions: 17,
  ReducerOptions: 27,
  SqueezeOptions: 30,
  ArgMaxOptions: 40,
} as const;

export const TensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  STRING: 5,
  BOOL: 6,
  INT16: 7,
  COMPLEX64: 8,
  INT8: 9,
  FLOAT64: 10,
} as const;

const TENSOR_TYPE_NAMES = [
  'FLOAT32',
  'FLOAT16',
  'INT32',
  'UINT8',
  'INT64',
  'STRING',
  'BOOL',
  'INT16',
  'COMPLEX64',
  'INT8',
  'FLOAT64',
  'COMPLEX128',
  'UINT64',
  'RESOURCE',
  'VARIANT',
  'UINT32',
  'UINT16',
  'INT4',
];

export function tensorTypeName(t: number): string {
  return TENSOR_TYPE_NAMES[t] ?? `type ${t}`;
}

export const Padding = { SAME: 0, VALID: 1 } as const;

export const ActivationFunctionType = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;
export const ACTIVATION_NAMES = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

export const Op = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  RESHAPE: 22,
  RESIZE_BILINEAR: 23,
  SOFTMAX: 25,
  CUSTOM: 32,
  MEAN: 40,
  SQUEEZE: 43,
  ARG_MAX: 56,
  QUANTIZE: 114,
  /** deprecated_builtin_code holds this when the real code (in builtin_code) is ≥ 127. */
  PLACEHOLDER_FOR_GREATER_OP_CODES: 127,
} as const;

/** BuiltinOperator names by value, for error messages. */
const BUILTIN_NAMES: string[] = (
  'ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE EMBEDDING_LOOKUP FLOOR ' +
  'FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION ' +
  'LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH ' +
  'CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN GATHER ' +
  'BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE ' +
  'BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ' +
  'ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE ' +
  'TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK ' +
  'LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD ' +
  'RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N ' +
  'GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE ' +
  'NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL ' +
  'PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS HASHTABLE ' +
  'HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ' +
  'ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU ' +
  'DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2 ' +
  'UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT'
).split(' ');

export function builtinName(code: number): string {
  if (code >= 162 && code <= 202) return 'STABLEHLO_*';
  return BUILTIN_NAMES[code] ?? 'UNKNOWN';
}

/** "CONV_2D (3)" */
export function describeBuiltin(code: number): string {
  return `${builtinName(code)} (${code})`;
}
