import { fireEvent, render, screen } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../lib/api", () => ({
  api: {
    makePlaylist: vi.fn(),
    playPlaylist: vi.fn(async () => "/data/playlists/now-playing.m3u8"),
    savePlaylist: vi.fn(async () => null),
  },
  errorText: (e: unknown) => (e instanceof Error ? e.message : String(e)),
}));

import { api } from "../lib/api";
import { Playlist } from "../lib/playlist.svelte";
import { card } from "../lib/testing";
import PlaylistView from "./PlaylistView.svelte";

describe("PlaylistView", () => {
  beforeEach(() => vi.clearAllMocks());

  it("shows the tracks with their energy curve and plays them in order", async () => {
    vi.mocked(api.makePlaylist).mockResolvedValue({
      tracks: [
        { card: card(1, { title: "Still" }), energy: 0.1, heard: ["quiet", "slow (68 BPM)"] },
        { card: card(2, { title: "Untagged" }), energy: null, heard: [] },
        { card: card(3, { title: "Driving" }), energy: 0.9, heard: ["loud"] },
      ],
      totalSecs: 600,
      notes: ["1 of 3 tracks have no sound to go by"],
    });
    const playlist = new Playlist();
    render(PlaylistView, { playlist, status: null });
    await fireEvent.input(screen.getByTestId("playlist-request"), { target: { value: "music for a run" } });
    await fireEvent.click(screen.getByLabelText(/Rising/));
    await fireEvent.click(screen.getByTestId("make-playlist"));
    await vi.waitFor(() => expect(screen.getAllByTestId("playlist-track")).toHaveLength(3));
    expect(api.makePlaylist).toHaveBeenCalledWith({ type: "request", text: "music for a run", minutes: null }, "rising");
    const chart = screen.getByTestId("energy-chart");
    expect(chart.dataset.points).toBe("2");
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe(
      "Energy rises from calm to energetic (1 without a sound analysis).",
    );
    expect(screen.getByText(/quiet, slow \(68 BPM\)/)).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Remove Untagged" }));
    await fireEvent.click(screen.getByTestId("play-playlist"));
    expect(api.playPlaylist).toHaveBeenCalledWith([1, 3]);
    expect((await screen.findByTestId("playlist-message")).textContent).toMatch(/Sent 2 tracks/);
  });
});
