/**
 * A small, validating reader and writer for the safetensors format
 * (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N bytes
 * of JSON (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`, padded with
 * spaces to a multiple of 8), then the tensor bytes, little-endian, packed with no holes.
 * Validation follows the reference implementation so every file it accepts, we accept.
 */
import { UserError } from "../../engine/errors.ts";

import type { Dtype, Tensor, TensorData } from "./dtype_convert.ts";
import { writeFileAtomic } from "../runs/atomic.ts";

export { bf16ToFloat32, f16ToFloat32, float32ToBf16, toFloat32 } from "./dtype_convert.ts";
export type { Dtype, Tensor, TensorData } from "./dtype_convert.ts";

/** A tensor's header entry: where its bytes lie relative to the start of the data section. */
export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  dataOffsets: [number, number];
}

/** The parsed header of a file: tensor entries in file order, metadata, and the data start. */
export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Byte position of the data section in the file (8 + header length). */
  dataStart: number;
}

/** What readSafetensors returns: tensors by name (file order) plus the `__metadata__` strings. */
export type SafetensorsContents = Map<string, Tensor> & { metadata: Record<string, string> };

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

// The reference refuses headers over 100 MB; a larger length means a corrupt or foreign file.
const MAX_HEADER_BYTES = 100_000_000;

function isDtype(value: unknown): value is Dtype {
  return typeof value === "string" && Object.hasOwn(DTYPE_BYTES, value);
}

function invalid(path: string, detail: string): UserError {
  return new UserError(
    `Cannot read safetensors file "${path}": ${detail}; pass a complete, valid .safetensors file`,
  );
}

/** Number of elements of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function viewAs(dtype: Dtype, buffer: ArrayBuffer): TensorData {
  switch (dtype) {
    case "F64":
      return new Float64Array(buffer);
    case "F32":
      return new Float32Array(buffer);
    case "I64":
      return new BigInt64Array(buffer);
    case "U64":
      return new BigUint64Array(buffer);
    case "I32":
      return new Int32Array(buffer);
    case "U32":
      return new Uint32Array(buffer);
    case "I16":
      return new Int16Array(buffer);
    case "F16":
    case "BF16":
    case "U16":
      return new Uint16Array(buffer);
    case "I8":
      return new Int8Array(buffer);
    case "U8":
    case "BOOL":
    case "F8_E4M3":
    case "F8_E5M2":
      return new Uint8Array(buffer);
    default: {
      const unreachable: never = dtype;
      throw new Error(`Unknown dtype "${unreachable}"`);
    }
  }
}

async function readExactly(file: Deno.FsFile, position: number, into: Uint8Array): Promise<number> {
  await file.seek(position, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < into.length) {
    const n = await file.read(into.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

function parseEntry(path: string, name: string, raw: unknown): TensorInfo {
  const where = `tensor "${name}"`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw invalid(path, `${where} has no {dtype, shape, data_offsets} entry`);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (!isDtype(dtype)) throw invalid(path, `${where} has unknown dtype "${String(dtype)}"`);
  const isIndex = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw invalid(path, `${where} has invalid shape ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw invalid(path, `${where} has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = elementCount(shape) * DTYPE_BYTES[dtype];
  if (end < begin || end - begin !== expected) {
    throw invalid(
      path,
      `${where} (${dtype} [${shape.join(", ")}]) needs ${expected} bytes but data_offsets ` +
        `[${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { dtype, shape: [...shape], dataOffsets: [begin, end] };
}

/** Reads and validates only the header of a safetensors file (cheap, even for huge files). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw new UserError(
      `Cannot open safetensors file "${path}": ${(err as Error).message}; check the path`,
    );
  }
  try {
    return await parseHeader(path, file);
  } finally {
    file.close();
  }
}

async function parseHeader(path: string, file: Deno.FsFile): Promise<SafetensorsHeader> {
  const fileSize = (await file.stat()).size;
  const lengthBytes = new Uint8Array(8);
  if (await readExactly(file, 0, lengthBytes) < 8) {
    throw invalid(path, `the file is ${fileSize} bytes, shorter than the 8-byte header length`);
  }
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
    throw invalid(
      path,
      `the header length ${headerLength} exceeds the ${fileSize - 8} bytes after it` +
        (headerLength > BigInt(MAX_HEADER_BYTES) ? ` (and the 100 MB limit)` : ""),
    );
  }
  const dataStart = 8 + Number(headerLength);
  const headerBytes = new Uint8Array(Number(headerLength));
  await readExactly(file, 8, headerBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw invalid(path, `the header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalid(path, "the header is not a JSON object");
  }
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(parsed)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw invalid(path, "__metadata__ is not an object of strings");
      }
      for (const [key, value] of Object.entries(raw)) {
        if (typeof value !== "string") {
          throw invalid(path, `__metadata__ value "${key}" is not a string`);
        }
        metadata[key] = value;
      }
      continue;
    }
    tensors.set(name, parseEntry(path, name, raw));
  }
  // As the reference does: tensors, sorted by offset, must tile the data section exactly.
  const dataLength = fileSize - dataStart;
  let cursor = 0;
  const byOffset = [...tensors].sort((a, b) =>
    a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]
  );
  for (const [name, info] of byOffset) {
    const [begin, end] = info.dataOffsets;
    if (begin !== cursor) {
      throw invalid(
        path,
        `tensor "${name}" starts at data offset ${begin} but the previous tensor ends at ${cursor}`,
      );
    }
    if (end > dataLength) {
      throw invalid(
        path,
        `tensor "${name}" ends at data offset ${end}, past the ${dataLength} data bytes ` +
          `(the file is truncated)`,
      );
    }
    cursor = end;
  }
  if (cursor !== dataLength) {
    throw invalid(path, `the tensors cover ${cursor} data bytes but the file holds ${dataLength}`);
  }
  return { tensors, metadata, dataStart };
}

/**
 * Reads a safetensors file into memory (each tensor in its own aligned buffer). `names` limits
 * which tensors are loaded; asking for a missing one is an error.
 */
export async function readSafetensors(
  path: string,
  options: { names?: readonly string[] } = {},
): Promise<SafetensorsContents> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw new UserError(
      `Cannot open safetensors file "${path}": ${(err as Error).message}; check the path`,
    );
  }
  try {
    const header = await parseHeader(path, file);
    const wanted = options.names ?? [...header.tensors.keys()];
    const contents = Object.assign(new Map<string, Tensor>(), { metadata: header.metadata });
    for (const name of wanted) {
      const info = header.tensors.get(name);
      if (!info) {
        throw new UserError(
          `Safetensors file "${path}" has no tensor "${name}"; check the tensor name`,
        );
      }
      const [begin, end] = info.dataOffsets;
      const bytes = new Uint8Array(end - begin);
      if (await readExactly(file, header.dataStart + begin, bytes) < bytes.length) {
        throw invalid(path, `tensor "${name}" could not be read in full (the file changed?)`);
      }
      contents.set(name, {
        dtype: info.dtype,
        shape: info.shape,
        data: viewAs(info.dtype, bytes.buffer),
      });
    }
    return contents;
  } finally {
    file.close();
  }
}

function checkTensor(name: string, tensor: Tensor): void {
  if (!isDtype(tensor.dtype)) {
    throw new UserError(`Cannot write tensor "${name}": unknown dtype "${tensor.dtype}"`);
  }
  const isIndex = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (!tensor.shape.every(isIndex)) {
    throw new UserError(
      `Cannot write tensor "${name}": invalid shape ${JSON.stringify(tensor.shape)}`,
    );
  }
  const expected = elementCount(tensor.shape) * DTYPE_BYTES[tensor.dtype];
  if (tensor.data.byteLength !== expected) {
    throw new UserError(
      `Cannot write tensor "${name}": ${tensor.dtype} [${tensor.shape.join(", ")}] needs ` +
        `${expected} bytes but its data has ${tensor.data.byteLength}; fix the shape or dtype`,
    );
  }
}

/**
 * Writes tensors to `path` atomically (a temporary file in the same folder, fsynced, then
 * renamed). Layout as the reference writes it: tensors ordered by element size (largest
 * first) then name, header padded with spaces to a multiple of 8 bytes.
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const names = Object.keys(tensors).sort((a, b) =>
    DTYPE_BYTES[tensors[b].dtype] - DTYPE_BYTES[tensors[a].dtype] || (a < b ? -1 : a > b ? 1 : 0)
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        throw new UserError(`Cannot write metadata "${key}": safetensors metadata must be strings`);
      }
    }
    header["__metadata__"] = metadata;
  }
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") {
      throw new UserError(`Cannot write a tensor named "__metadata__"; the name is reserved`);
    }
    const tensor = tensors[name];
    checkTensor(name, tensor);
    header[name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + tensor.data.byteLength],
    };
    offset += tensor.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padding = (8 - (json.length % 8)) % 8;
  if (padding > 0) {
    const padded = new Uint8Array(json.length + padding).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);

  const chunks: Uint8Array[] = [prefix, json];
  for (const name of names) {
    const data = tensors[name].data;
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  await writeFileAtomic(path, chunks);
}
