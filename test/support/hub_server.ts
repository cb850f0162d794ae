/**
 * A local stand-in for the Hugging Face hub's file API, serving model folders from disk:
 * `GET /api/models/<repo>/revision/main?blobs=true` lists the files with sizes, git blob ids and
 * LFS sha256 (for .safetensors), and `GET /<repo>/resolve/<commit>/<file>` serves the bytes with
 * Range support and the X-Repo-Commit / X-Linked-Etag / X-Linked-Size headers the hub sends.
 * Faults on demand: a download cut off after some bytes, a corrupted file, a gated repo.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

/** Faults to inject, by file name. */
export interface HubFaults {
  /** Send only this many bytes of the file's first download, then break the connection. */
  cutAfter?: Record<string, number>;
  /** Flip a byte of this file in every download. */
  corrupt?: Set<string>;
  /** Repos that answer 401 as a gated repo does without a token. */
  gated?: Set<string>;
}

/** A running fake hub. */
export interface FakeHub {
  endpoint: string;
  /** Every request: method, path and its Range header. */
  log: { path: string; range: string | null }[];
  stop(): Promise<void>;
}

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function listing(dir: string) {
  return [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => {
    const bytes = Deno.readFileSync(join(dir, e.name));
    const blobId = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
    const sibling: Record<string, unknown> = { rfilename: e.name, size: bytes.length, blobId };
    if (e.name.endsWith(".safetensors")) {
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      sibling.lfs = { sha256, size: bytes.length, pointerSize: 134 };
    }
    return sibling;
  });
}

/** Serves `repos` (repo id → folder) on 127.0.0.1 at a free port. */
export function startFakeHub(repos: Record<string, string>, faults: HubFaults = {}): FakeHub {
  const log: FakeHub["log"] = [];
  const cut = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const range = req.headers.get("range");
    log.push({ path: url.pathname, range });
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/main$/.exec(url.pathname);
    const file = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repo = api?.[1] ?? file?.[1];
    if (!repo || !repos[repo]) return new Response("Repository not found", { status: 404 });
    if (faults.gated?.has(repo) && !req.headers.get("authorization")) {
      return new Response("Access to this model is restricted", { status: 401 });
    }
    if (api) return Response.json({ id: repo, sha: COMMIT, siblings: listing(repos[repo]) });
    const name = decodeURIComponent(file![3]);
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(join(repos[repo], name));
    } catch {
      return new Response("Entry not found", { status: 404 });
    }
    if (faults.corrupt?.has(name)) bytes = bytes.map((b, i) => i === 0 ? b ^ 0xff : b);
    const headers = { "X-Repo-Commit": COMMIT, "X-Linked-Size": String(bytes.length) };
    const start = range ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0) : 0;
    const body = bytes.subarray(start);
    const limit = faults.cutAfter?.[name];
    if (limit !== undefined && !cut.has(name)) {
      cut.add(name);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(body.slice(0, limit));
          setTimeout(() => controller.error(new Error("connection dropped")), 20);
        },
      });
      return new Response(stream, {
        headers: { ...headers, "Content-Length": String(body.length) },
      });
    }
    return new Response(body.slice(), {
      status: range ? 206 : 200,
      headers: range
        ? { ...headers, "Content-Range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` }
        : headers,
    });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    log,
    stop: () => server.shutdown(),
  };
}
