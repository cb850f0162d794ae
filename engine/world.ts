/**
 * The process world: ranks that are processes (torchrun, srun), each running the same command
 * line. Rank 0 runs the command and splits its models across every rank; the others load their
 * shards and run their part of each of rank 0's calls inside the shim, print nothing but
 * errors, and exit with rank 0's exit code.
 */
import { lib, unwrap, worldError } from "../ffi/lib.ts";
import { EngineError } from "../ffi/errors.ts";
import { UserError } from "./errors.ts";

/** This process's place in the world. */
export interface World {
  rank: number;
  world: number;
  localRank: number;
}

let joined: World = { rank: 0, world: 1, localRank: 0 };

/** The world this process joined (a world of one until joinWorld, or without WORLD_SIZE). */
export function currentWorld(): World {
  return joined;
}

/**
 * Joins the world torchrun's environment describes (the shim reads WORLD_SIZE, RANK,
 * LOCAL_RANK, MASTER_ADDR, MASTER_PORT, RAST_WORLD_TIMEOUT). On rank 0 of several, exiting
 * releases the other ranks with this process's exit code.
 */
export async function joinWorld(): Promise<World> {
  // libtorch logs to stderr what the shim reports as one line (a rank that times out, a lost
  // peer); keep only its fatal messages, unless the user asked for more. Read when the library
  // loads, so before the first lib().
  for (const [name, level] of [["GLOG_minloglevel", "3"], ["TORCH_CPP_LOG_LEVEL", "FATAL"]]) {
    if (Deno.env.get(name) === undefined) Deno.env.set(name, level);
  }
  const buf = new Uint8Array(256);
  const len = new BigInt64Array(1);
  const code = await lib().rast_world_join(buf, BigInt(buf.length), new Uint8Array(len.buffer));
  userErrors(() => unwrap(code, worldError));
  joined = JSON.parse(new TextDecoder().decode(buf.subarray(0, Number(len[0])))) as World;
  if (joined.world > 1 && joined.rank === 0) {
    // Deno.exit() (main.ts's every ending) dispatches unload with the exit code already set.
    addEventListener("unload", () => lib().rast_world_close(Deno.exitCode));
  }
  return joined;
}

/** Ranks other than 0: runs their part of rank 0's calls until rank 0 exits; its exit code. */
export async function followWorld(): Promise<number> {
  // torchrun and Slurm signal every rank at once: rank 0 stops the run (saving what is done)
  // and releases the others with its exit code, so they leave the stopping to it.
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => {});
  const exitCode = new Int32Array(1);
  const code = await lib().rast_world_follow(new Uint8Array(exitCode.buffer));
  unwrap(code, worldError);
  return exitCode[0];
}

/**
 * The rank count a model is split across when the command asks for `requested` (unset: 1). In
 * a world of several processes a split model spans all of them, so 1 and the world size both
 * mean every rank.
 */
export function ranksFor(requested: number | undefined): number {
  const { world } = joined;
  if (world === 1) return requested ?? 1;
  if (requested === undefined || requested === 1 || requested === world) return world;
  throw new UserError(
    `--tensor-parallel-size ${requested} does not match WORLD_SIZE=${world}: across processes ` +
      `the base is split across every rank; pass ${world} or leave it out`,
  );
}

function userErrors(call: () => void): void {
  try {
    call();
  } catch (err) {
    if (err instanceof EngineError && err.isUserError) throw new UserError(err.message);
    throw err;
  }
}
