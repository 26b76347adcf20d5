// One burner thread: busy for `duty` of every 100 ms slice, idle for the rest, until told to stop.
import { parentPort, workerData } from 'node:worker_threads';

const SLICE_MS = 100;
let duty = (workerData as { duty: number }).duty;
let running = true;

parentPort?.on('message', (msg: { type: 'stop' } | { type: 'duty'; duty: number }) => {
  if (msg.type === 'stop') running = false;
  else duty = msg.duty;
});

let x = 1;
function slice(): void {
  if (!running) {
    process.exit(0);
  }
  const busyUntil = Date.now() + SLICE_MS * duty;
  while (Date.now() < busyUntil) {
    for (let i = 0; i < 5000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  }
  // yield to receive messages; sleep the idle part of the slice
  setTimeout(slice, Math.max(0, SLICE_MS * (1 - duty)));
}
slice();
