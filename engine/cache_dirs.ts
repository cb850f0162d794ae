/**
 * Every cache folder rast reads or fills, in one place: the Hugging Face hub cache (models, as
 * huggingface_hub lays it out), the hub's token folder, and rast's own cache (downloaded
 * benchmarks, the demo trio and its table). A leaf: it imports nothing of rast, so every room
 * may use it.
 */
import { homedir } from "node:os";
import { join } from "node:path";

/** The environment variables the cache folders follow (injectable for tests). */
export interface CacheEnv {
  HF_HUB_CACHE?: string;
  HF_HOME?: string;
  XDG_CACHE_HOME?: string;
  HOME?: string;
  RAST_CACHE_DIR?: string;
}

/** This process's values of the CacheEnv variables. */
export function cacheEnv(): CacheEnv {
  const get = (name: string) => Deno.env.get(name);
  return {
    HF_HUB_CACHE: get("HF_HUB_CACHE"),
    HF_HOME: get("HF_HOME"),
    XDG_CACHE_HOME: get("XDG_CACHE_HOME"),
    HOME: get("HOME"),
    RAST_CACHE_DIR: get("RAST_CACHE_DIR"),
  };
}

/** $XDG_CACHE_HOME, else ~/.cache. */
function userCacheDir(env: CacheEnv): string {
  return env.XDG_CACHE_HOME || join(env.HOME ?? homedir(), ".cache");
}

/** huggingface_hub's home (token, hub cache): HF_HOME, else <user cache>/huggingface. */
export function hfHomeDir(env: CacheEnv = cacheEnv()): string {
  return env.HF_HOME || join(userCacheDir(env), "huggingface");
}

/** The hub's model cache, as huggingface_hub finds it: HF_HUB_CACHE, else <HF home>/hub. */
export function hubCacheDir(env: CacheEnv = cacheEnv()): string {
  return env.HF_HUB_CACHE || join(hfHomeDir(env), "hub");
}

/**
 * rast's own cache: RAST_CACHE_DIR, else $HF_HOME/rast (beside the models where HF_HOME is
 * set, as on clusters that point it at shared storage), else <user cache>/rast.
 */
export function rastCacheDir(env: CacheEnv = cacheEnv()): string {
  if (env.RAST_CACHE_DIR) return env.RAST_CACHE_DIR;
  return env.HF_HOME ? join(env.HF_HOME, "rast") : join(userCacheDir(env), "rast");
}
