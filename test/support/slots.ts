/** Fixed slot layouts over the paged KV pool for tests that hold a few whole sequences. */
import { SlotLayout } from "../../engine/block_pool.ts";
import { defaultBlockSize } from "../../engine/kv_pool.ts";

/** Block sizes every fixture check runs at: one position, the CPU default, the CUDA default. */
export const BLOCK_SIZES = [1, 16, 256] as const;

/** Sets up `target`'s pool for `slots` sequences of up to `positions` positions. */
export async function initSlots(
  target: { initCache(blocks: number, blockSize: number): Promise<void> },
  slots: number,
  positions: number,
  blockSize = defaultBlockSize("cpu"),
): Promise<SlotLayout> {
  const layout = new SlotLayout(slots, positions, blockSize);
  await target.initCache(layout.blocks, layout.blockSize);
  return layout;
}
