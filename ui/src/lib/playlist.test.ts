import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("./api", () => ({
  api: {
    makePlaylist: vi.fn(),
    playPlaylist: vi.fn(async () => "/data/playlists/now-playing.m3u8"),
    savePlaylist: vi.fn(async () => "/music/calm.m3u8"),
  },
  errorText: (e: unknown) => (e instanceof Error ? e.message : String(e)),
}));

import { api, type PlaylistEntry } from "./api";
import { Playlist } from "./playlist.svelte";
import { card } from "./testing";

const make = vi.mocked(api.makePlaylist);

function entry(id: number, energy: number | null): PlaylistEntry {
  return { card: card(id, { durationSecs: 240 }), energy, heard: energy == null ? [] : ["quiet"] };
}

describe("Playlist", () => {
  beforeEach(() => vi.clearAllMocks());

  it("asks for a request's tracks with the duration and shape chosen", async () => {
    make.mockResolvedValue({ tracks: [entry(1, 0.1), entry(2, 0.4)], totalSecs: 480, notes: ["n"] });
    const p = new Playlist();
    p.text = "  calm music for cooking ";
    p.minutes = 60;
    p.shape = "rising";
    await p.make();
    expect(make).toHaveBeenCalledWith({ type: "request", text: "calm music for cooking", minutes: 60 }, "rising");
    expect(p.title).toBe("calm music for cooking");
    expect(p.tracks.map((t) => t.card.id)).toEqual([1, 2]);
    expect(p.energies).toEqual([0.1, 0.4]);
    expect(p.totalSecs).toBe(480);
    expect(p.notes).toEqual(["n"]);
  });

  it("makes a journey between the two marked tracks", async () => {
    make.mockResolvedValueOnce({ tracks: [entry(1, 0.1), entry(2, 0.5), entry(3, 0.9)], totalSecs: 720, notes: [] });
    const p = new Playlist();
    p.text = "music";
    await p.make();
    p.markFrom(1);
    p.markTo(3);
    p.steps = 4;
    make.mockResolvedValueOnce({ tracks: [entry(1, 0.1), entry(5, 0.5), entry(3, 0.9)], totalSecs: 720, notes: [] });
    await p.journey();
    expect(make).toHaveBeenLastCalledWith({ type: "journey", fromId: 1, toId: 3, steps: 4 }, "steady");
    expect(p.title).toBe("From Title 1 to Title 3");
    expect([p.fromId, p.toId]).toEqual([1, 3]);
  });

  it("marking one track as both ends keeps only the latest mark", () => {
    const p = new Playlist();
    p.markFrom(1);
    p.markTo(1);
    expect([p.fromId, p.toId]).toEqual([null, 1]);
  });

  it("plays and saves the tracks in the order shown, after edits", async () => {
    make.mockResolvedValue({ tracks: [entry(1, 0.1), entry(2, null), entry(3, 0.9)], totalSecs: 720, notes: [] });
    const p = new Playlist();
    p.text = "calm";
    await p.make();
    p.move(2, -1);
    p.remove(0);
    await p.play();
    expect(api.playPlaylist).toHaveBeenCalledWith([3, 2]);
    expect(p.message).toMatch(/2 tracks/);
    await p.save("xspf");
    expect(api.savePlaylist).toHaveBeenCalledWith([3, 2], "calm", "xspf");
    expect(p.message).toBe("Saved to /music/calm.m3u8");
  });

  it("a cancelled save says nothing, and a failure keeps the list", async () => {
    make.mockResolvedValue({ tracks: [entry(1, 0.1)], totalSecs: 240, notes: [] });
    const p = new Playlist();
    p.text = "calm";
    await p.make();
    vi.mocked(api.savePlaylist).mockResolvedValueOnce(null);
    await p.save("m3u8");
    expect(p.message).toBeNull();
    make.mockRejectedValueOnce(new Error("no tracks for this playlist"));
    await p.make();
    expect(p.error).toBe("no tracks for this playlist");
    expect(p.tracks).toHaveLength(1);
    expect(p.busy).toBe(false);
  });
});
