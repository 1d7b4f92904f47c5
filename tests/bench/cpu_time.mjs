// On-CPU time of the browser a benchmark script starts, for ratios that hold still on a loaded machine.

import { readdirSync, readFileSync } from "node:fs";

/** CPU seconds (user + system) used so far by every process this script started (Chromium's
 * browser, renderer and helper processes; Linux /proc, clock ticks of 1/100 s). The worker's
 * thread lives in the page's renderer process; the page's own thread and the others are
 * counted too, so the on-CPU rate is a lower bound for the worker alone. */
export function childrenCpuSeconds() {
  const stats = new Map();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      // Fields after the command's closing parenthesis: state, ppid, ..., utime (14), stime (15).
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop().split(" ");
      stats.set(Number(pid), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while we looked.
    }
  }
  const ours = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; p = stats.get(p)?.ppid ?? 0, hops++) if (p === process.pid) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, stat] of stats) if (pid !== process.pid && ours(pid)) ticks += stat.ticks;
  return ticks / 100;
}
