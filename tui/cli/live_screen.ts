/**
 * Ink decides at import time, from the CI and CONTINUOUS_INTEGRATION variables (is-in-ci), to
 * draw nothing until it unmounts. A researcher whose shell profile or job runner exports CI
 * would then watch a blank terminal, so before the TUI's first import those variables are
 * dropped from this process when the screen really is a terminal.
 */
export function enableLiveScreen(): void {
  if (!Deno.stdout.isTerminal()) return;
  for (const name of ["CI", "CONTINUOUS_INTEGRATION"]) Deno.env.delete(name);
}
