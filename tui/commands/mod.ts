/** Every CLI command's `register` function, in the order `--help` lists them. */
import type { Command } from "commander";
import { register as registerRun } from "./run.ts";
import { register as registerModelCommands } from "./model_commands.ts";
import { register as registerBench } from "./bench.ts";
import { register as registerEval } from "./eval.ts";
import { register as registerGrade } from "./grade.ts";

export type RegisterCommand = (program: Command) => void;

export const commandModules: RegisterCommand[] = [
  registerRun,
  registerModelCommands,
  registerBench,
  registerEval,
  registerGrade,
];
