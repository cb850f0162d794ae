/** Every CLI command's `register` function, in the order `--help` lists them. */
import type { Command } from "commander";

export type RegisterCommand = (program: Command) => void;

export const commandModules: RegisterCommand[] = [];
