// The Docker engine streams events and stats as newline-delimited JSON; this splits a
// byte stream into parsed objects (a partial last line waits for the next chunk).
export function onJsonLines<T>(stream: NodeJS.ReadableStream, handle: (value: T) => void): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
      if (line.trim().length === 0) continue;
      try {
        handle(JSON.parse(line) as T);
      } catch {
        // a malformed line is skipped; the next one stands on its own
      }
    }
  });
}
