import assert from "node:assert/strict";
import { join } from "node:path";
import {
  bf16ToFloat32,
  f16ToFloat32,
  float32ToBf16,
  readSafetensors,
  readSafetensorsHeader,
  toFloat32,
  writeSafetensors,
} from "../tui/checkpoints/safetensors.ts";
import { UserError } from "../engine/errors.ts";
import { FIXTURES_DIR } from "./support/paths.ts";

const REFERENCE = join(FIXTURES_DIR, "reference.safetensors");

/** A file laid out by hand from the format description: length, JSON header, raw bytes. */
function handMadeFile(header: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function rejects(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "bad.safetensors");
  await Deno.writeFile(path, bytes);
  try {
    await assert.rejects(readSafetensors(path), (err: Error) => {
      assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
      assert.ok(err.message.includes(path), `message names the file: ${err.message}`);
      assert.match(err.message, pattern);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("reads the prompts of the HF reference file", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(join(FIXTURES_DIR, "MANIFEST.json")));
  const file = await readSafetensors(REFERENCE);
  const ids = file.get("prompt0.ids")!;
  assert.equal(ids.dtype, "I64");
  assert.deepEqual(ids.shape, [7]);
  assert.deepEqual([...ids.data as BigInt64Array].map(Number), [5, 17, 300, 42, 999, 7, 1100]);
  assert.deepEqual(manifest.prompts[0], [5, 17, 300, 42, 999, 7, 1100]);
  for (let p = 0; p < manifest.prompts.length; p++) {
    const t = file.get(`prompt${p}.ids`)!;
    assert.deepEqual([...toFloat32(t)], manifest.prompts[p]);
  }
  assert.equal(JSON.parse(file.metadata.info).greedy_steps, manifest.greedy_steps);
});

Deno.test("reads only the tensors asked for, and names a missing one", async () => {
  const file = await readSafetensors(REFERENCE, { names: ["prompt2.ids"] });
  assert.deepEqual([...file.keys()], ["prompt2.ids"]);
  assert.deepEqual([...file.get("prompt2.ids")!.data as BigInt64Array], [640n]);
  await assert.rejects(
    readSafetensors(REFERENCE, { names: ["nope"] }),
    /has no tensor "nope"/,
  );
});

Deno.test("the header of a bf16 fixture shard has consistent sizes", async () => {
  const index = JSON.parse(
    await Deno.readTextFile(join(FIXTURES_DIR, "base", "model.safetensors.index.json")),
  );
  const shard = Object.values(index.weight_map as Record<string, string>)[0];
  const header = await readSafetensorsHeader(join(FIXTURES_DIR, "base", shard));
  assert.ok(header.tensors.size > 0);
  for (const info of header.tensors.values()) assert.equal(info.dtype, "BF16");
  assert.equal(header.dataStart % 8, 0, "the reference pads headers to 8 bytes");
});

Deno.test("writes the layout the format describes, byte for byte", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "t.safetensors");
    await writeSafetensors(path, {
      b: { dtype: "U8", shape: [2], data: new Uint8Array([7, 9]) },
      a: { dtype: "F32", shape: [1], data: new Float32Array([1]) },
    }, { k: "v" });
    // Larger elements first, then by name; header padded with spaces to a multiple of 8.
    const header = '{"__metadata__":{"k":"v"},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}';
    const padded = header + " ".repeat((8 - header.length % 8) % 8);
    const expected = handMadeFile(padded, new Uint8Array([0, 0, 0x80, 0x3f, 7, 9]));
    assert.deepEqual(await Deno.readFile(path), expected);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["t.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("round trips every dtype, metadata and scalars", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "rt.safetensors");
    const tensors = {
      f32: {
        dtype: "F32" as const,
        shape: [2, 3],
        data: new Float32Array([1, -2, 3.5, 0, 1e-8, 7]),
      },
      f64: { dtype: "F64" as const, shape: [1], data: new Float64Array([Math.PI]) },
      bf16: { dtype: "BF16" as const, shape: [3], data: new Uint16Array([0x3f80, 0xc000, 0x3dcd]) },
      i64: { dtype: "I64" as const, shape: [2], data: new BigInt64Array([-1n, 2n ** 40n]) },
      i32: { dtype: "I32" as const, shape: [], data: new Int32Array([-5]) },
      empty: { dtype: "F16" as const, shape: [0, 4], data: new Uint16Array(0) },
    };
    await writeSafetensors(path, tensors, { format: "pt" });
    const back = await readSafetensors(path);
    assert.deepEqual(back.metadata, { format: "pt" });
    for (const [name, t] of Object.entries(tensors)) {
      const got = back.get(name)!;
      assert.equal(got.dtype, t.dtype, name);
      assert.deepEqual(got.shape, t.shape, name);
      assert.deepEqual([...got.data], [...t.data], name);
    }
    assert.deepEqual([...toFloat32(back.get("bf16")!)], [1, -2, 0.10009765625]);
    // Overwriting is atomic: the old file is replaced whole.
    await writeSafetensors(path, { x: { dtype: "U8", shape: [1], data: new Uint8Array([1]) } });
    assert.deepEqual([...(await readSafetensors(path)).keys()], ["x"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bf16 and f16 conversions match hand-computed values", () => {
  // bf16: 1.0 = 0x3f80, -2 = 0xc000, 0.1 rounds to 0x3dcd (0x3dcccccd rounded to nearest).
  assert.deepEqual([...float32ToBf16(new Float32Array([1, -2, 0.1, Infinity]))], [
    0x3f80,
    0xc000,
    0x3dcd,
    0x7f80,
  ]);
  // Ties go to even: 1 + 2^-8 lies halfway between bf16 1.0 and 1.0078125.
  assert.deepEqual([...float32ToBf16(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8]))], [
    0x3f80,
    0x3f82,
  ]);
  assert.ok(Number.isNaN(bf16ToFloat32(float32ToBf16(new Float32Array([NaN])))[0]));
  // f16: 1.0 = 0x3c00, largest 65504 = 0x7bff, smallest subnormal 2^-24 = 0x0001, -0.5 = 0xb800.
  assert.deepEqual([...f16ToFloat32(new Uint16Array([0x3c00, 0x7bff, 0x0001, 0xb800, 0x7c00]))], [
    1,
    65504,
    2 ** -24,
    -0.5,
    Infinity,
  ]);
});

Deno.test("truncated files and bad headers give clear errors", async () => {
  const good = handMadeFile(
    '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
    new Uint8Array(8),
  );
  await rejects(good.subarray(0, 5), /shorter than the 8-byte header length/);
  await rejects(good.subarray(0, 30), /header length 54 exceeds the 22 bytes/);
  await rejects(good.subarray(0, good.length - 3), /tensor "w" ends at data offset 8.*truncated/);
  await rejects(handMadeFile("{not json", new Uint8Array()), /not valid UTF-8 JSON/);
  await rejects(handMadeFile("[1,2]", new Uint8Array()), /not a JSON object/);
  await rejects(
    handMadeFile('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)),
    /tensor "w" \(F32 \[3\]\) needs 12 bytes but data_offsets \[0, 8\] span 8/,
  );
  await rejects(
    handMadeFile('{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}', new Uint8Array(8)),
    /tensor "w" has unknown dtype "Q4"/,
  );
  await rejects(
    handMadeFile('{"w":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', new Uint8Array(3)),
    /tensor "w" starts at data offset 1/,
  );
  await rejects(
    handMadeFile('{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', new Uint8Array(5)),
    /cover 2 data bytes but the file holds 5/,
  );
  await assert.rejects(
    readSafetensors("/nonexistent/x.safetensors"),
    /Cannot open.*x\.safetensors/,
  );
});

Deno.test("the writer refuses data that does not fit the shape", async () => {
  await assert.rejects(
    writeSafetensors("/tmp/never-written.safetensors", {
      w: { dtype: "F32", shape: [3], data: new Float32Array(2) },
    }),
    /tensor "w": F32 \[3\] needs 12 bytes but its data has 8/,
  );
});
