/** tfjs layers-model import and the nsfwjs MobileNetV2. */
export { importTfjsLayersModel, type TfjsImportOptions } from './importer.js';
export {
  loadNsfwjsMobileNetV2,
  findNsfwjsPackage,
  readNsfwjsModelFiles,
  ModelNotAvailableError,
  NSFWJS_CLASSES,
} from './nsfwjs.js';
export {
  TfjsModelError,
  decodeWeights,
  parseWeightsManifest,
  float16ToNumber,
  type WeightSpec,
  type WeightGroup,
  type DecodedWeight,
} from './weights.js';
export { JsLiteralError, parseJsLiteral, readUmdExport } from './jsliteral.js';
