/**
 * The paged KV cache's bookkeeping (nano-vllm's block manager): a fixed pool of blocks of
 * blockSize positions with reference counts, and per sequence a block table. Blocks are shared
 * by reference (a prompt's prefix read by its n samples) and copied on write before a sequence
 * writes into one it does not own alone. Pure TypeScript; the shim only reads the tables.
 */

/** A block id in every model's pool (they all have the same shape). */
export type BlockId = number;

export class BlockPool {
  readonly #free: BlockId[];
  readonly #refs: Int32Array;

  constructor(readonly blocks: number, readonly blockSize: number) {
    if (!(blocks >= 1 && blockSize >= 1)) throw new RangeError("BlockPool: empty pool");
    this.#refs = new Int32Array(blocks);
    // Lowest id first (popped from the end), so a small run touches few blocks.
    this.#free = Array.from({ length: blocks }, (_, i) => blocks - 1 - i);
  }

  get freeBlocks(): number {
    return this.#free.length;
  }

  get usedBlocks(): number {
    return this.blocks - this.#free.length;
  }

  /** Blocks that hold `positions` positions. */
  blocksFor(positions: number): number {
    return Math.ceil(positions / this.blockSize);
  }

  /** A fresh block with one reference; throws when none is free (callers check first). */
  allocate(): BlockId {
    const id = this.#free.pop();
    if (id === undefined) throw new RangeError("BlockPool: no free block");
    this.#refs[id] = 1;
    return id;
  }

  /** One more holder of each block (a sample sharing its prompt's prefix). */
  retain(ids: readonly BlockId[]): void {
    for (const id of ids) this.#refs[id]++;
  }

  /** Drops one reference of each block; a block nobody holds goes back to the pool. */
  release(ids: readonly BlockId[]): void {
    for (const id of ids) {
      if (this.#refs[id] <= 0) throw new RangeError(`BlockPool: block ${id} released twice`);
      if (--this.#refs[id] === 0) this.#free.push(id);
    }
  }

  /** Holders of a block. */
  refs(id: BlockId): number {
    return this.#refs[id];
  }
}

/**
 * Makes position `position` of a sequence writable: appends a block when it starts a new one,
 * or replaces a shared block by a private copy. Returns the copy to make ([src, dst]) or null;
 * false when the pool has no free block (nothing changed).
 */
export function prepareWrite(
  pool: BlockPool,
  table: BlockId[],
  position: number,
): [BlockId, BlockId] | null | false {
  const index = Math.floor(position / pool.blockSize);
  if (index < table.length && pool.refs(table[index]) === 1) return null;
  if (pool.freeBlocks === 0) return false;
  const fresh = pool.allocate();
  if (index === table.length) {
    table.push(fresh);
    return null;
  }
  const shared = table[index];
  table[index] = fresh;
  pool.release([shared]);
  return [shared, fresh];
}

/** Lays out block tables as the shim's [n, maxBlocks] int32 array. */
export function packTables(tables: readonly BlockId[][]): { table: Int32Array; maxBlocks: number } {
  const maxBlocks = Math.max(1, ...tables.map((t) => t.length));
  const table = new Int32Array(tables.length * maxBlocks);
  tables.forEach((t, i) => table.set(t, i * maxBlocks));
  return { table, maxBlocks };
}

/**
 * Fixed regions of a pool for callers that hold a few whole sequences (the step debugger, the
 * benchmarks, `rast logits`, tests): slot s owns blocks [s·k, (s+1)·k), k = blocks for
 * `positions`.
 */
export class SlotLayout {
  readonly blocksPerSlot: number;

  constructor(readonly slots: number, readonly positions: number, readonly blockSize: number) {
    this.blocksPerSlot = Math.ceil(positions / blockSize);
  }

  /** Blocks of the whole pool. */
  get blocks(): number {
    return this.slots * this.blocksPerSlot;
  }

  /** The block tables of sequences in these slots, for a Batch. */
  tables(slots: readonly number[]): { blockTable: Int32Array; maxBlocks: number } {
    const k = this.blocksPerSlot;
    const blockTable = new Int32Array(slots.length * k);
    slots.forEach((s, i) => {
      for (let j = 0; j < k; j++) blockTable[i * k + j] = s * k + j;
    });
    return { blockTable, maxBlocks: k };
  }
}
