/**
 * Safetensors element types, tensors, and conversions to and from float32 (bf16/f16 kept as raw
 * bit patterns).
 */
import { UserError } from "../../engine/errors.ts";

/** Element types of the safetensors format (the reference's names). */
export type Dtype =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL"
  | "F8_E4M3"
  | "F8_E5M2";

/** Element storage: F16/BF16 keep their raw 16-bit patterns, F8 and BOOL their raw bytes. */
export type TensorData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** One tensor: dtype, shape and row-major elements. */
export interface Tensor {
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

/** BF16 bit patterns to float32 (exact: bf16 is the top half of a float32). */
export function bf16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

/** Float32 to BF16 bit patterns, rounding to nearest even as torch does (NaN stays NaN). */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    if ((b & 0x7fffffff) > 0x7f800000) {
      out[i] = (b >>> 16) | 0x0040; // quiet NaN
    } else {
      out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    }
  }
  return out;
}

/** IEEE half-precision bit patterns to float32 (exact). */
export function f16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/**
 * A tensor's elements as float32: F32 data is returned as is (not copied), other dtypes are
 * converted (BF16/F16 exactly; 64-bit integers lose precision beyond 2^24). F8 is refused.
 */
export function toFloat32(tensor: Tensor): Float32Array {
  const { dtype, data } = tensor;
  switch (dtype) {
    case "F32":
      return data as Float32Array;
    case "BF16":
      return bf16ToFloat32(data as Uint16Array);
    case "F16":
      return f16ToFloat32(data as Uint16Array);
    case "I64":
    case "U64":
      return Float32Array.from(data as BigInt64Array, (v) => Number(v));
    case "F64":
    case "I32":
    case "U32":
    case "I16":
    case "U16":
    case "I8":
    case "U8":
    case "BOOL":
      return Float32Array.from(data as ArrayLike<number>);
    case "F8_E4M3":
    case "F8_E5M2":
      throw new UserError(`Cannot convert a ${dtype} tensor to float32; F8 is not supported`);
    default: {
      const unreachable: never = dtype;
      throw new Error(`Unknown dtype "${unreachable}"`);
    }
  }
}
