// A small W3C WebDriver client over fetch: enough to drive the real app
// through tauri-driver (which runs WebKitWebDriver) without a test
// framework's browser downloads.
const W3C_ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriver {
  constructor(base) {
    this.base = base;
    this.session = null;
  }

  async cmd(method, path, body, timeoutMs = 120_000) {
    const url = `${this.base}${this.session ? `/session/${this.session}` : ""}${path}`;
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new Error(`${method} ${path || "/session"}: ${e.message}`);
    }
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const v = json.value ?? {};
      throw new Error(`${method} ${path}: ${v.error ?? res.status}: ${v.message ?? ""}`);
    }
    return json.value;
  }

  async start(application, env) {
    const value = await this.cmd("POST", "/session", {
      capabilities: {
        alwaysMatch: { "tauri:options": { application, ...(env ? { env } : {}) } },
      },
    });
    this.session = value.sessionId;
  }

  async quit() {
    if (this.session) {
      await this.cmd("DELETE", "").catch(() => {});
      this.session = null;
    }
  }

  async find(css) {
    const v = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return v[W3C_ELEMENT];
  }

  async findAll(css) {
    const v = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return v.map((e) => e[W3C_ELEMENT]);
  }

  click(id) {
    return this.cmd("POST", `/element/${id}/click`, {});
  }

  type(id, text) {
    return this.cmd("POST", `/element/${id}/value`, { text });
  }

  text(id) {
    return this.cmd("GET", `/element/${id}/text`);
  }

  attr(id, name) {
    return this.cmd("GET", `/element/${id}/attribute/${name}`);
  }

  exec(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot", undefined, 60_000), "base64");
  }

  setWindowRect(rect) {
    return this.cmd("POST", "/window/rect", rect);
  }

  /** Polls `check` until it returns a truthy value or `ms` pass. */
  async waitFor(what, check, ms = 60_000, every = 250) {
    const until = Date.now() + ms;
    let last;
    while (Date.now() < until) {
      try {
        const v = await check();
        if (v) return v;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, every));
    }
    throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
  }
}
