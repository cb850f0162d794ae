/**
 * Runs on disk: the authors' results layout, run.json, the fsynced journal, resume, and the run
 * loop shared by the TUI and the batch mode. Typical use:
 * `const plan = await planRun(config); const session = await startRun(plan, grader);
 *  for await (const event of session.events(engine)) ...; const summary = await session.finish();`
 */
export {
  type PairOption,
  planRun,
  type RunConfig,
  type RunDataset,
  type RunPlan,
  type RunRow,
} from "./plan.ts";
export {
  type RunEventsOptions,
  RunSession,
  type RunSummary,
  type SampleGrader,
} from "./session.ts";
export { startRun, tryStartShard } from "./start.ts";
export { Journal, readJournal, sampleKey, type SampleRecord, type Verdict } from "./journal.ts";
export { formatPyFloat, runFolderName, type RunPaths, runPaths, windowOf } from "./layout.ts";
export {
  checkRunFolder,
  type ModelRecord,
  readRunRecord,
  type RunRecord,
  type RunSettings,
  settingsDifference,
} from "./run_json.ts";
export { ROW_SEED_RULE, rowSeed } from "./seeds.ts";
export { makeDirDurable, writeTextAtomic } from "./atomic.ts";
