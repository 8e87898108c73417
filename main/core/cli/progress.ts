/** A progress bar on a terminal; a line a second otherwise (logs, CI). */
export function progressBar(label: string, unit: string, total: number): (done: number, final?: boolean) => void {
  const tty = process.stdout.isTTY === true;
  let lastLine = 0;
  return (done, final = false) => {
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
    if (tty) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      process.stdout.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${done}/${total}`);
      if (final) process.stdout.write('\n');
    } else if (final || Date.now() - lastLine > 1000) {
      lastLine = Date.now();
      process.stdout.write(`${label}: ${pct}% (${done}/${total} ${unit})\n`);
    }
  };
}
