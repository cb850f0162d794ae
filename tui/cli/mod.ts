/** Every CLI command's `register` function, in the order `--help` lists them. */
import type { Command } from "commander";
import { register as registerRun } from "./run.ts";
import { register as registerModelCommands } from "./model_commands.ts";
import { register as registerBench } from "./bench.ts";
import { register as registerEval } from "./eval.ts";
import { register as registerGrade } from "./grade.ts";
import { register as registerDemo } from "./demo.ts";
import { register as registerDebug } from "./debug.ts";
import { register as registerAnalyze } from "./analyze.ts";
import { register as registerSlurm } from "./slurm.ts";
import { register as registerStatus } from "./status.ts";

export type RegisterCommand = (program: Command) => void;

export const commandModules: RegisterCommand[] = [
  registerDemo,
  registerRun,
  registerSlurm,
  registerStatus,
  registerDebug,
  registerModelCommands,
  registerBench,
  registerEval,
  registerGrade,
  registerAnalyze,
];
