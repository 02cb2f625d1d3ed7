/**
 * A minimal Chrome DevTools Protocol client for tests: launches headless Chromium with a fresh profile,
 * attaches to one page over Deno's WebSocket (flattened sessions) and offers navigate / evaluate /
 * screenshot. No npm dependency (puppeteer/playwright would need a download).
 */

export const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

export function chromiumAvailable(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

type Pending = { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void };

export class Browser {
  #ws!: WebSocket;
  #proc!: Deno.ChildProcess;
  #profile!: string;
  #id = 0;
  #pending = new Map<number, Pending>();
  #listeners: ((method: string, params: Record<string, unknown>) => void)[] = [];
  #session = "";
  /** Console errors and uncaught exceptions of the page. */
  errors: string[] = [];

  static async launch(width = 1400, height = 1000): Promise<Browser> {
    const b = new Browser();
    b.#profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
    b.#proc = new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        `--user-data-dir=${b.#profile}`,
        "--remote-debugging-port=0",
        `--window-size=${width},${height}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const url = await b.#readWsUrl();
    b.#ws = new WebSocket(url);
    await new Promise<void>((res, rej) => {
      b.#ws.onopen = () => res();
      b.#ws.onerror = (e) => rej(new Error(`CDP websocket: ${(e as ErrorEvent).message ?? e}`));
    });
    b.#ws.onmessage = (ev) => b.#onMessage(JSON.parse(ev.data as string));
    const { targetId } = await b.send("Target.createTarget", { url: "about:blank" }, false);
    const { sessionId } = await b.send("Target.attachToTarget", { targetId, flatten: true }, false);
    b.#session = sessionId as string;
    b.#listeners.push((method, p) => {
      if (method === "Runtime.exceptionThrown") {
        const d = p.exceptionDetails as { text?: string; exception?: { description?: string } };
        b.errors.push(d.exception?.description ?? d.text ?? "exception");
      } else if (method === "Runtime.consoleAPICalled" && p.type === "error") {
        b.errors.push(JSON.stringify(p.args));
      } else if (method === "Log.entryAdded") {
        const e = p.entry as { level: string; text: string };
        if (e.level === "error") b.errors.push(e.text);
      }
    });
    await b.send("Page.enable");
    await b.send("Runtime.enable");
    await b.send("Log.enable");
    await b.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
    return b;
  }

  async #readWsUrl(): Promise<string> {
    const reader = this.#proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (m) {
        // Keep draining stderr so Chromium never blocks on a full pipe.
        (async () => {
          try {
            while (!(await reader.read()).done) { /* discard */ }
          } catch { /* closed */ }
        })();
        return m[1];
      }
    }
    throw new Error(`chromium did not print its DevTools URL; stderr:\n${text.slice(-2000)}`);
  }

  #onMessage(
    msg: {
      id?: number;
      result?: Record<string, unknown>;
      error?: { message: string };
      method?: string;
      params?: Record<string, unknown>;
    },
  ) {
    if (msg.id !== undefined) {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`CDP: ${msg.error.message}`));
      else p.resolve(msg.result ?? {});
    } else if (msg.method) {
      for (const l of [...this.#listeners]) l(msg.method, msg.params ?? {});
    }
  }

  send(method: string, params: Record<string, unknown> = {}, inSession = true): Promise<Record<string, unknown>> {
    const id = ++this.#id;
    const msg: Record<string, unknown> = { id, method, params };
    if (inSession) msg.sessionId = this.#session;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify(msg));
    });
  }

  /** Resolves on the next event named `method` (or rejects after `ms`). */
  waitFor(method: string, ms = 20000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter((l) => l !== listener);
        reject(new Error(`timed out waiting for ${method}`));
      }, ms);
      const listener = (m: string, p: Record<string, unknown>) => {
        if (m !== method) return;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((l) => l !== listener);
        resolve(p);
      };
      this.#listeners.push(listener);
    });
  }

  async navigate(url: string): Promise<void> {
    const loaded = this.waitFor("Page.loadEventFired");
    const r = await this.send("Page.navigate", { url });
    if (r.errorText) throw new Error(`navigate ${url}: ${r.errorText}`);
    await loaded;
  }

  /** Evaluate an expression in the page (promises awaited), returning its JSON value. */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) {
      const d = r.exceptionDetails as { text?: string; exception?: { description?: string } };
      throw new Error(`page: ${d.exception?.description ?? d.text}`);
    }
    return (r.result as { value: T }).value;
  }

  /** Poll `expression` until it is truthy. */
  async until(expression: string, ms = 15000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await this.eval<boolean>(`!!(${expression})`)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for: ${expression}`);
  }

  /** A real mouse click at the centre of the first element matching `selector`. */
  async click(selector: string): Promise<void> {
    const box = await this.eval<{ x: number; y: number } | null>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: "center" });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`);
    if (!box) throw new Error(`no element matches ${selector}`);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await this.send("Input.dispatchMouseEvent", { type, x: box.x, y: box.y, button: "left", clickCount: 1 });
    }
  }

  async screenshot(path: string, fullPage = false): Promise<void> {
    const r = await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: fullPage });
    const bin = atob(r.data as string);
    await Deno.writeFile(path, Uint8Array.from(bin, (ch) => ch.charCodeAt(0)));
  }

  async close(): Promise<void> {
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.send("Browser.close", {}, false),
        new Promise((r) => (timer = setTimeout(r, 2000))),
      ]).finally(() => clearTimeout(timer));
    } catch { /* already closing */ }
    try {
      this.#ws.close();
    } catch { /* closed */ }
    try {
      this.#proc.kill("SIGKILL");
    } catch { /* exited */ }
    await this.#proc.status;
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}
