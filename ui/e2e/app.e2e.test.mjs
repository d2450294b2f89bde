// End to end on the real app binary: WebKitWebDriver through tauri-driver
// under Xvfb, a library of real files generated from ../shared/datasets,
// the real models, a real SQLite catalog and LanceDB index in a temp data
// dir. It adds the folder, waits for the scan, asks, likes a pick, asks a
// follow-up, and saves screenshots of each state under target/e2e/.
//
// Needs: MOODSHELF_APP (the app binary, built with `--features
// custom-protocol`), MOODSHELF_LIBGEN (the libgen binary),
// MOODSHELF_MODELS_DIR (with the test models), tauri-driver on PATH.
// `scripts/e2e.sh` sets all of this up.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { WebDriver } from "./webdriver.mjs";

const need = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run scripts/e2e.sh`);
  return v;
};
const app = need("MOODSHELF_APP");
const libgen = need("MOODSHELF_LIBGEN");
const modelsDir = need("MOODSHELF_MODELS_DIR");
const shots = resolve(process.env.MOODSHELF_SCREENSHOTS ?? "../target/e2e");
const port = Number(process.env.TAURI_DRIVER_PORT ?? 4444);

const work = mkdtempSync(join(tmpdir(), "moodshelf-e2e-"));
const library = join(work, "library");
const dataDir = join(work, "data");
// A stand-in for the desktop's default player, which Xvfb does not have:
// first on PATH as `xdg-open`, it only writes down what it was given.
const playerBin = join(work, "bin");
const played = join(work, "played.txt");
let driver;
let wd;

function startDriver(extraEnv = {}) {
  driver = spawn("tauri-driver", ["--port", String(port)], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      MOODSHELF_DATA_DIR: dataDir,
      MOODSHELF_MODELS_DIR: modelsDir,
      // The small test model: real llama.cpp generation, fast on 2 cores.
      MOODSHELF_REASONING_MODEL: process.env.MOODSHELF_REASONING_MODEL ?? "SmolLM2-135M-Instruct.Q4_1.gguf",
      WEBKIT_DISABLE_DMABUF_RENDERER: "1",
      RUST_LOG: process.env.RUST_LOG ?? "warn,lance=error",
      PATH: `${playerBin}:${process.env.PATH}`,
      E2E_PLAYED: played,
      ...extraEnv,
    },
  });
}

async function startApp() {
  wd = new WebDriver(`http://127.0.0.1:${port}`);
  await wd.waitFor("tauri-driver", () => fetch(`http://127.0.0.1:${port}/status`).then((r) => r.ok), 30_000);
  await wd.start(app);
  await wd.waitFor("the window", () => wd.find("[data-testid=nav-chat]"), 60_000);
}

async function stopApp() {
  await wd?.quit();
  if (driver) {
    const exited = new Promise((r) => driver.once("exit", r));
    driver.kill();
    await exited;
    driver = null;
  }
  // The app is single-instance, and with a tray closing its window only
  // hides it: a process left behind would take over the next start and keep
  // this runner's output open. Wait for it a little, then end it.
  for (let i = 0; i < 40 && appRunning(); i++) {
    await new Promise((r) => setTimeout(r, 250));
  }
  if (appRunning()) {
    try {
      execFileSync("pkill", ["-KILL", "-f", app], { stdio: "ignore" });
    } catch {
      // Gone in the meantime.
    }
    for (let i = 0; i < 40 && appRunning(); i++) {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function appRunning() {
  try {
    execFileSync("pgrep", ["-f", app], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

// WebKitWebDriver takes a screenshot after the page's next paint, and
// under Xvfb a page with nothing moving never paints again. A 1-pixel
// element that flickers while the screenshot is taken gives it a paint.
async function shot(name) {
  mkdirSync(shots, { recursive: true });
  await wd.exec(`
    const d = document.createElement('div');
    d.id = 'e2e-paint';
    d.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none';
    document.body.append(d);
    let on = false;
    window.__e2ePaint = setInterval(() => { on = !on; d.style.opacity = on ? '0.02' : '0.01'; }, 30);`);
  try {
    writeFileSync(join(shots, `${name}.png`), await wd.screenshot());
  } finally {
    await wd.exec("clearInterval(window.__e2ePaint); document.getElementById('e2e-paint')?.remove();");
  }
}

before(async () => {
  // Besides the dataset's tagged (silent) tracks, 6 still and 6 driving
  // synthesized ones with neutral names and no tags: only their sound
  // tells them apart.
  execFileSync(libgen, ["--out", library, "--music", "40", "--books", "20", "--videos", "20", "--sounds", "6"], {
    stdio: "inherit",
  });
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(playerBin, { recursive: true });
  writeFileSync(join(playerBin, "xdg-open"), '#!/bin/sh\nprintf "%s\\n" "$@" >> "$E2E_PLAYED"\n', { mode: 0o755 });
  startDriver();
  await startApp();
});

after(async () => {
  await stopApp();
  rmSync(work, { recursive: true, force: true });
});

test("an empty library says so and offers suggestions for now", async () => {
  await wd.setWindowRect({ width: 1000, height: 720 }).catch(() => {});
  const welcome = await wd.text(await wd.find("[data-testid=chat-log]"));
  assert.match(welcome, /What are you in the mood for\?/);
  assert.match(welcome, /Your library is empty/);
  const chips = await wd.findAll(".suggestions button");
  assert.ok(chips.length >= 3 && chips.length <= 5, `suggestions: ${chips.length}`);
  await shot("01-empty");
});

test("adding a folder scans it and shows counts per kind and the watch state", async () => {
  await wd.click(await wd.find("[data-testid=nav-library]"));
  await wd.type(await wd.find("[data-testid=folder-path]"), library);
  await wd.click(await wd.find("[data-testid=add-folder]"));
  await shot("02-scanning");
  const summary = await wd.waitFor(
    "the scan to finish",
    async () => {
      const t = await wd.text(await wd.find("[data-testid=scan-summary]"));
      return /^Scanned/.test(t) ? t : null;
    },
    240_000,
  );
  assert.match(summary, /Scanned \d+ files/);
  const count = async (k) => Number(await wd.text(await wd.find(`[data-testid=count-${k}]`)));
  await wd.waitFor("counts", async () => (await count("music")) > 0);
  assert.equal(await count("music"), 52);
  assert.equal(await count("books"), 20);
  assert.equal(await count("videos"), 20);
  const watch = await wd.waitFor("the folder to be watched", async () => {
    const t = await wd.text(await wd.find("[data-testid=watch-state]"));
    return t === "Live" || t === "Polling" ? t : null;
  });
  assert.ok(watch);
  await shot("03-library");
});

async function answers() {
  return wd.findAll("[data-testid=answer]");
}

async function cardsOf(answer) {
  return wd.exec(
    `return [...arguments[0].querySelectorAll('[data-testid=pick]')].map(c => ({
       kind: c.dataset.kind,
       title: c.querySelector('h3').textContent,
       path: c.querySelector('h3').title,
       why: c.querySelector('[data-testid=why]')?.textContent ?? '',
       liked: c.querySelector('[data-testid=like]').getAttribute('aria-pressed') }))`,
    [{ "element-6066-11e4-a52e-4f735466cecf": answer }],
  );
}

async function ask(text, nth) {
  const box = await wd.find("[data-testid=message]");
  await wd.type(box, text);
  await wd.type(box, "\uE007"); // Enter sends.
  return wd.waitFor(
    `answer ${nth}`,
    async () => {
      const all = await answers();
      if (all.length < nth) return null;
      const done = await wd.exec(
        "return !document.querySelector('[data-testid=stop]')",
      );
      if (!done) return null;
      const cards = await cardsOf(all[nth - 1]);
      return cards.length ? cards : null;
    },
    180_000,
  );
}

let firstCards;

test("a question gets cards from this library, with reasons", async () => {
  await wd.click(await wd.find("[data-testid=nav-chat]"));
  firstCards = await ask("something calm to listen to this evening", 1);
  assert.ok(firstCards.length > 0);
  for (const c of firstCards) {
    assert.ok(c.path.startsWith(library), `${c.path} is not in the library`);
    assert.ok(c.title.length > 0);
    assert.ok(c.why.length > 0, `no reason for ${c.title}`);
  }
  assert.ok(firstCards.every((c) => c.kind === "music"), JSON.stringify(firstCards.map((c) => c.kind)));
  await shot("04-answer");
});

test("liking a pick is recorded", async () => {
  const [first] = await answers();
  const like = await wd.exec(
    "return arguments[0].querySelector('[data-testid=like]')",
    [{ "element-6066-11e4-a52e-4f735466cecf": first }],
  );
  await wd.click(like["element-6066-11e4-a52e-4f735466cecf"]);
  await wd.waitFor("the like to be saved", async () => (await cardsOf(first))[0].liked === "true");
});

test("a pick shows what was understood of it and the model explains more when asked", async () => {
  const [first] = await answers();
  const el = (css) =>
    wd.exec("return arguments[0].querySelector(arguments[1])", [
      { "element-6066-11e4-a52e-4f735466cecf": first },
      css,
    ]);
  const click = async (css) => wd.click((await el(css))["element-6066-11e4-a52e-4f735466cecf"]);
  await click("[data-testid=details-toggle]");
  const details = await wd.waitFor("the pick's details", async () => {
    const d = await wd.exec(
      "return arguments[0].querySelector('[data-testid=details]')?.textContent ?? ''",
      [{ "element-6066-11e4-a52e-4f735466cecf": first }],
    );
    return d.trim() || null;
  });
  // The small test model knows no works: not read yet, read as unknown,
  // or read from what the file says.
  assert.ok(details.length > 0);
  // The reasoning model is there (the test model), so a pick can be
  // explained more: a checked reason, or why the model's was not shown.
  await click("[data-testid=explain-more]");
  const more = await wd.waitFor(
    "the model's reason",
    async () => {
      const m = await wd.exec(
        "return arguments[0].querySelector('[data-testid=more]')?.textContent ?? ''",
        [{ "element-6066-11e4-a52e-4f735466cecf": first }],
      );
      return m.trim() || null;
    },
    120_000,
  );
  assert.ok(!/^The candidate/.test(more), more);
  // The pick's own reason stays.
  assert.ok((await cardsOf(first))[0].why.length > 0);
  await shot("04b-explain-more");
});

test("a follow-up refines the answer in the same conversation", async () => {
  const cards = await ask("only books", 2);
  assert.ok(cards.every((c) => c.kind === "book"), JSON.stringify(cards.map((c) => c.kind)));
  for (const c of cards) assert.ok(c.path.startsWith(library));
  const convs = await wd.findAll("[data-testid=conversations] button");
  assert.equal(convs.length, 1, "one conversation holds both turns");
  await shot("05-follow-up");
});

async function playlistRows() {
  return wd.exec(
    `return [...document.querySelectorAll('[data-testid=playlist-track]')].map(r => ({
       id: Number(r.dataset.id),
       energy: r.dataset.energy === '' ? null : Number(r.dataset.energy),
       path: r.querySelector('.title').title }))`,
  );
}

async function playlistMessage() {
  return wd.waitFor("the playlist's message", async () => {
    const m = await wd.findAll("[data-testid=playlist-message], [role=alert]");
    return m.length ? wd.text(m[0]) : null;
  }, 60_000);
}

test("a playlist rises in energy, a journey links two tracks, and both play and save", async () => {
  await wd.click(await wd.find("[data-testid=nav-playlists]"));
  // The background job listens to the tracks after the scan.
  await wd.waitFor(
    "the synthesized tracks to be analysed",
    async () => {
      const t = await wd.text(await wd.find("[data-testid=heard-count]"));
      const m = t.match(/^(\d+) of (\d+) tracks/);
      return m && Number(m[1]) >= 12 ? t : null;
    },
    300_000,
  );
  await wd.type(await wd.find("[data-testid=playlist-request]"), "calm quiet music");
  await wd.type(await wd.find("[data-testid=playlist-minutes]"), "12");
  await wd.click(await wd.find("input[name=shape][value=rising]"));
  await wd.click(await wd.find("[data-testid=make-playlist]"));
  const rows = await wd.waitFor("the playlist", async () => {
    const r = await playlistRows();
    return r.length ? r : null;
  }, 120_000);
  for (const r of rows) assert.ok(r.path.startsWith(library), r.path);
  // Twelve minutes, filled within one: "N tracks · m:ss".
  const summary = await wd.text(await wd.find("[data-testid=playlist-summary]"));
  const [, m, sec] = summary.match(/· (\d+):(\d\d)$/) ?? [];
  const filled = Number(m) * 60 + Number(sec);
  assert.ok(Math.abs(filled - 12 * 60) <= 60, summary);
  const heard = rows.filter((r) => r.energy != null);
  assert.ok(heard.length >= 2, JSON.stringify(rows));
  // Rising: unanalysed tracks sit mid-curve, the rest climb.
  const curve = rows.map((r) => r.energy ?? 0.5);
  assert.ok(curve.every((v, i) => i === 0 || curve[i - 1] <= v), JSON.stringify(curve));
  const chart = await wd.find("[data-testid=energy-chart]");
  assert.equal(Number(await wd.exec("return arguments[0].dataset.points", [{ "element-6066-11e4-a52e-4f735466cecf": chart }])), heard.length);
  await shot("11-playlist");

  // A journey from the calmest analysed track to the liveliest in 3 steps.
  const from = heard[0];
  const to = heard[heard.length - 1];
  const rowButton = (id, what) =>
    wd.find(`[data-testid=playlist-track][data-id="${id}"] [data-testid=${what}]`);
  await wd.click(await rowButton(from.id, "mark-from"));
  await wd.click(await rowButton(to.id, "mark-to"));
  const steps = await wd.find("[data-testid=journey-steps]");
  await wd.exec("arguments[0].value = ''", [{ "element-6066-11e4-a52e-4f735466cecf": steps }]);
  await wd.type(steps, "3");
  await wd.click(await wd.find("[data-testid=make-journey]"));
  const journey = await wd.waitFor("the journey", async () => {
    const h = await wd.text(await wd.find("[data-testid=playlist-heading]"));
    if (!h.startsWith("From ")) return null;
    return playlistRows();
  }, 60_000);
  assert.equal(journey.length, 5, JSON.stringify(journey));
  assert.equal(journey[0].id, from.id);
  assert.equal(journey[4].id, to.id);
  assert.equal(new Set(journey.map((r) => r.id)).size, 5, "no repeats");
  await shot("12-journey");

  // Play hands the list, in this order, to the default player.
  await wd.click(await wd.find("[data-testid=play-playlist]"));
  assert.match(await playlistMessage(), /Sent 5 tracks to your player/);
  const list = readFileSync(played, "utf8").trim().split("\n").pop();
  assert.ok(list.endsWith("now-playing.m3u8"), list);
  const entries = readFileSync(list, "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  assert.deepEqual(entries, journey.map((r) => r.path));

  // Save as M3U8 through the system's save dialog, typed into as a person
  // would (xdotool), into the library folder: paths become relative.
  const target = join(library, "journey.m3u8");
  await wd.click(await wd.find("[data-testid=save-m3u8]"));
  const dialog = execFileSync("xdotool", ["search", "--sync", "--name", "^Save playlist$"], {
    encoding: "utf8",
    timeout: 30_000,
  }).trim().split("\n")[0];
  execFileSync("xdotool", ["windowfocus", "--sync", dialog]);
  execFileSync("xdotool", ["key", "ctrl+a"]);
  execFileSync("xdotool", ["type", "--delay", "30", target]);
  execFileSync("xdotool", ["key", "Return"]);
  assert.equal(await playlistMessage(), `Saved to ${target}`);
  const saved = readFileSync(target, "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  assert.deepEqual(saved.map((e) => resolve(library, e)), journey.map((r) => r.path));
  assert.ok(saved.every((e) => !e.startsWith("/")), saved.join("\n"));
  await shot("13-journey-saved");
});

test("your taste shows in words, a part of it can be forgotten, and a profile switch changes who asks", async () => {
  // Four liked tracks of the first answer make a taste.
  await wd.click(await wd.find("[data-testid=nav-chat]"));
  const [first] = await answers();
  const likes = await wd.exec(
    "return [...arguments[0].querySelectorAll('[data-testid=like]')].slice(0, 4)",
    [{ "element-6066-11e4-a52e-4f735466cecf": first }],
  );
  for (const like of likes) {
    if ((await wd.attr(like["element-6066-11e4-a52e-4f735466cecf"], "aria-pressed")) !== "true") {
      await wd.click(like["element-6066-11e4-a52e-4f735466cecf"]);
    }
  }
  await wd.waitFor("the likes to be saved", async () =>
    (await cardsOf(first)).slice(0, 4).every((c) => c.liked === "true"),
  );
  await wd.click(await wd.find("[data-testid=nav-taste]"));
  const words = await wd.waitFor("the taste in words", async () => {
    const w = await wd.findAll("[data-testid=taste-words]");
    return w.length ? wd.text(w[0]) : null;
  });
  assert.match(words, /^Music: you come back to /, words);
  const parts = await wd.findAll("[data-testid=taste-part]");
  assert.ok(parts.length > 0, "parts of the taste are listed");
  const part = (await wd.text(parts[0])).replace(/\s*\d+ works.*$/s, "").trim();
  await shot("08-taste");
  const forget = await wd.exec("return arguments[0].querySelector('[data-testid=forget]')", [
    { "element-6066-11e4-a52e-4f735466cecf": parts[0] },
  ]);
  await wd.click(forget["element-6066-11e4-a52e-4f735466cecf"]);
  const forgotten = await wd.waitFor("the part to be forgotten", async () => {
    const f = await wd.findAll("[data-testid=forgotten] li");
    return f.length ? wd.text(f[0]) : null;
  });
  assert.ok(forgotten.startsWith(part), `${forgotten} is ${part}`);
  await wd.click(await wd.find("[data-testid=restore]"));
  await wd.waitFor("the part to be back", async () => (await wd.findAll("[data-testid=forgotten] li")).length === 0);

  // A second person: the switch appears, and their taste is their own.
  await wd.type(await wd.find("input[name=person-name]"), "Sam");
  await wd.click(await wd.find("[data-testid=add-person]"));
  const pick = (name) =>
    wd.exec(
      `const s = document.querySelector('[data-testid=person-switch]');
       s.value = arguments[0]; s.dispatchEvent(new Event('change', { bubbles: true }));`,
      [name],
    );
  await wd.waitFor("the profile switch", () => wd.find("[data-testid=person-switch]"));
  await pick("Sam");
  await wd.waitFor("Sam's taste", async () => (await wd.text(await wd.find("[data-testid=taste-person]"))) === "Asking as Sam");
  await wd.waitFor("nothing yet for Sam", () => wd.find("[data-testid=taste-empty]"));
  await shot("09-taste-sam");
  await pick("Me");
  await wd.waitFor("the owner's taste again", async () => (await wd.findAll("[data-testid=taste-words]")).length > 0);
});

test("models and settings are reachable and the window fits 800x600", async () => {
  await wd.click(await wd.find("[data-testid=nav-models]"));
  await wd.waitFor("models", async () => (await wd.findAll("[data-testid=model-row]")).length >= 2);
  await shot("06-models");
  await wd.click(await wd.find("[data-testid=nav-settings]"));
  await wd.waitFor("settings", () => wd.find("input[name=hemisphere]"));
  await wd.setWindowRect({ width: 800, height: 600 }).catch(() => {});
  await wd.click(await wd.find("[data-testid=nav-chat]"));
  const overflow = await wd.exec(
    "return document.documentElement.scrollWidth > window.innerWidth + 1",
  );
  assert.equal(overflow, false, "no horizontal scrolling at 800x600");
  await shot("07-chat-800x600");
});

test("after a restart in dark mode, the library and the conversation are still there", async () => {
  await stopApp();
  startDriver({ GTK_THEME: "Adwaita:dark" });
  await startApp();
  await wd.setWindowRect({ width: 1000, height: 720 }).catch(() => {});
  const dark = await wd.exec("return matchMedia('(prefers-color-scheme: dark)').matches");
  assert.ok(dark, "the window follows the system's dark theme");
  const convs = await wd.waitFor("the stored conversation", async () => {
    const list = await wd.findAll("[data-testid=conversations] button");
    return list.length ? list : null;
  });
  assert.equal(convs.length, 1);
  await wd.click(convs[0]);
  await wd.waitFor("its two answers", async () => (await answers()).length === 2);
  const cards = await cardsOf((await answers())[0]);
  assert.ok(cards.length > 0 && cards.every((c) => c.path.startsWith(library)));
  await shot("08-restored-dark");
  await wd.click(await wd.find("[data-testid=nav-library]"));
  assert.equal(Number(await wd.text(await wd.find("[data-testid=count-books]"))), 20);
  await shot("09-library-dark");
});

test("saving the settings repairs a settings file broken by hand", async () => {
  const settings = join(dataDir, "settings.toml");
  // A typo, as a person editing the file by hand makes. (That such a file
  // at start falls back to the defaults, with the reason in the status, is
  // tested in the engine: a restart here races the single-instance app.)
  writeFileSync(settings, '[models]\nembeding = "typo.gguf"\n');
  await wd.click(await wd.find("[data-testid=nav-settings]"));
  const radios = await wd.waitFor("the hemisphere choice", async () => {
    const r = await wd.findAll("input[name=hemisphere]");
    return r.length === 2 ? r : null;
  });
  await wd.click(radios[1]); // Southern
  await wd.click(await wd.find("button[type=submit]"));
  await wd.waitFor("saved", async () => {
    const s = await wd.findAll("[role=status]");
    const texts = await Promise.all(s.map((e) => wd.text(e)));
    return texts.includes("Saved") ? true : null;
  });
  const repaired = readFileSync(settings, "utf8");
  assert.ok(!repaired.includes("embeding"), repaired);
  assert.match(repaired, /south/);
  assert.match(readFileSync(`${settings}.broken`, "utf8"), /embeding/);
  await shot("10-settings-repaired");
});
