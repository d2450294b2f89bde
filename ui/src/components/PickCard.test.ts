import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../lib/api", () => ({
  api: {
    openItem: vi.fn(async () => null),
    revealItem: vi.fn(async () => null),
    itemDetails: vi.fn(async () => ({
      known: "yes",
      about: "A novel about a trial in a small town.",
      facets: [{ label: "Genres", value: "courtroom drama" }],
      by: "model.gguf",
    })),
    explainMore: vi.fn(async () => ({ why: "A quiet courtroom drama for a slow evening", refused: null })),
  },
  coverUrl: (id: number) => `cover://localhost/${id}`,
  errorText: (e: unknown) => (e instanceof Error ? e.message : String(e)),
}));

import { api } from "../lib/api";
import { card } from "../lib/testing";
import PickCard from "./PickCard.svelte";

describe("PickCard", () => {
  beforeEach(() => vi.clearAllMocks());
  afterEach(() => cleanup());

  it("shows what a pick is and why", () => {
    render(PickCard, {
      card: card(4, { kind: "video", title: "A Film", creator: "A Director", year: 2001, durationSecs: 6000 }),
      onFeedback: vi.fn(),
    });
    expect(screen.getByRole("heading", { name: "A Film" })).toBeTruthy();
    expect(screen.getByText("Video")).toBeTruthy();
    expect(screen.getByText("A Director · 2001 · 1 h 40 min")).toBeTruthy();
    expect(screen.getByTestId("why").textContent).toBe("rule reason 4");
    expect(screen.getByRole("button", { name: "Play A Film" })).toBeTruthy();
  });

  it("opens and reveals by id, and reports feedback", async () => {
    const onFeedback = vi.fn(async () => {});
    render(PickCard, { card: card(8, { kind: "book", title: "A Book" }), onFeedback });
    await fireEvent.click(screen.getByRole("button", { name: "Open A Book" }));
    expect(api.openItem).toHaveBeenCalledWith(8);
    await fireEvent.click(screen.getByRole("button", { name: "Show in folder for A Book" }));
    expect(api.revealItem).toHaveBeenCalledWith(8);
    await fireEvent.click(screen.getByRole("button", { name: "Like A Book" }));
    expect(onFeedback).toHaveBeenCalledWith("like");
  });

  it("says what a dislike does and shows errors from the host", async () => {
    vi.mocked(api.openItem).mockRejectedValueOnce(new Error("/m/x.flac is not reachable now"));
    render(PickCard, { card: card(2), verdict: "dislike", onFeedback: vi.fn() });
    expect(screen.getByText("Won't come back for requests like this.")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Dislike Title 2" }).getAttribute("aria-pressed")).toBe("true");
    await fireEvent.click(screen.getByRole("button", { name: "Play Title 2" }));
    expect((await screen.findByRole("alert")).textContent).toContain("not reachable");
  });

  it("shows what the model understood, and explains more only when asked", async () => {
    render(PickCard, {
      card: card(5, { kind: "book", title: "A Trial" }),
      onFeedback: vi.fn(),
      request: "a slow book",
      canExplain: true,
    });
    expect(api.itemDetails).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByRole("button", { name: "Details of A Trial" }));
    expect(api.itemDetails).toHaveBeenCalledWith(5);
    expect((await screen.findByTestId("details")).textContent).toContain("courtroom drama");
    expect(api.explainMore).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByRole("button", { name: "Explain more for A Trial" }));
    expect(api.explainMore).toHaveBeenCalledWith("a slow book", 5);
    expect((await screen.findByTestId("more")).textContent).toBe("A quiet courtroom drama for a slow evening");
    // The pick's own reason stays.
    expect(screen.getByTestId("why").textContent).toBe("rule reason 5");
  });

  it("offers no model explanation without a model", () => {
    render(PickCard, { card: card(6), onFeedback: vi.fn(), request: "calm", canExplain: false });
    expect(screen.queryByTestId("explain-more")).toBeNull();
  });
});
