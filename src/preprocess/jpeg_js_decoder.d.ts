/** Types of jpeg-js's decoder module alone (its index also loads the encoder). */
declare module 'jpeg-js/lib/decoder.js' {
  export default function decode(
    jpegData: Uint8Array | ArrayBuffer,
    opts: {
      useTArray: true;
      formatAsRGBA?: boolean;
      tolerantDecoding?: boolean;
      maxResolutionInMP?: number;
      maxMemoryUsageInMB?: number;
    },
  ): { width: number; height: number; data: Uint8Array };
}
