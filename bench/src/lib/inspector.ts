// The balancer's own V8 seen through its inspector (started with --inspect=127.0.0.1:<port>):
// a forced full GC and the heap left after it (the live set, not the garbage that sampling
// /metrics also sees), and a heap snapshot written by the balancer itself.
export interface Inspector {
  /** Heap in use right after a forced full collection, MiB. */
  liveHeapMiB(): Promise<number>;
  /** v8.writeHeapSnapshot(path) in the inspected process (blocks it while it writes). */
  writeSnapshot(path: string): Promise<void>;
  close(): void;
}

export async function connectInspector(port: number): Promise<Inspector> {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  const url = list[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`inspector ${url}: cannot connect`)), { once: true });
  });
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) return;
    const w = waiting.get(msg.id);
    waiting.delete(msg.id);
    if (msg.error) w?.reject(new Error(msg.error.message));
    else w?.resolve(msg.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  const evaluate = async (expression: string) => {
    const r = (await send('Runtime.evaluate', { expression, returnByValue: true })) as {
      result: { value?: unknown };
      exceptionDetails?: { text: string };
    };
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  };
  return {
    async liveHeapMiB() {
      await send('HeapProfiler.collectGarbage');
      return Number(await evaluate('process.memoryUsage().heapUsed')) / 1024 ** 2;
    },
    async writeSnapshot(path: string) {
      await evaluate(`process.getBuiltinModule('node:v8').writeHeapSnapshot(${JSON.stringify(path)})`);
    },
    close: () => ws.close(),
  };
}
