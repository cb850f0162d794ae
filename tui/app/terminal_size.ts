/** The terminal size as a React hook, shared by the run TUI and the debugger. */
import { useCallback, useEffect, useState } from "react";
import { useStdout } from "ink";

/** stdout's size, updated on resize (80×24 when stdout is not a terminal). */
export function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = useCallback(() => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 }), [
    stdout,
  ]);
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => void stdout.off("resize", onResize);
  }, [stdout, read]);
  return size;
}
