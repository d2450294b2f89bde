import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("./api", () => ({
  api: {
    ask: vi.fn(),
    stopAnswer: vi.fn(async () => true),
    feedback: vi.fn(async () => null),
    conversation: vi.fn(),
  },
  errorText: (e: unknown) => (e instanceof Error ? e.message : String(e)),
}));

import { api } from "./api";
import { Chat, type AssistantTurn } from "./chat.svelte";
import { answer, card } from "./testing";

const ask = vi.mocked(api.ask);

describe("Chat", () => {
  beforeEach(() => vi.clearAllMocks());

  it("shows picks as they stream, then the model's reasons", async () => {
    let seenDuringStream: string[] = [];
    const chat = new Chat();
    ask.mockImplementation(async (_text, _conv, onEvent) => {
      onEvent({ type: "understood", phrases: ["calm", "no horror"] });
      onEvent({ type: "picks", cards: [card(1), card(2)] });
      const turn = chat.turns[1] as AssistantTurn;
      seenDuringStream = turn.cards.map((c) => c.why);
      expect(turn.pending).toBe(false);
      expect(turn.explaining).toBe(true);
      onEvent({ type: "piece", text: "{\"reasons\"" });
      onEvent({ type: "why", id: 2, why: "model reason" });
      return answer([card(1), card(2, { why: "model reason" })]);
    });

    await chat.send("  a calm evening, no horror ");

    expect(ask).toHaveBeenCalledWith("a calm evening, no horror", null, expect.any(Function));
    expect(seenDuringStream).toEqual(["rule reason 1", "rule reason 2"]);
    const turn = chat.turns[1] as AssistantTurn;
    expect(chat.turns[0]).toEqual({ role: "user", text: "a calm evening, no horror" });
    expect(turn.cards.map((c) => c.why)).toEqual(["rule reason 1", "model reason"]);
    expect(turn.understood).toEqual(["calm"]);
    expect(turn.explaining).toBe(false);
    expect(turn.thinking).toBe("");
    expect(chat.conversationId).toBe(7);
    expect(chat.busy).toBe(false);
  });

  it("sends follow-ups to the same conversation", async () => {
    const chat = new Chat();
    ask.mockResolvedValueOnce(answer([card(1)], { conversationId: 42 }));
    await chat.send("something sad");
    ask.mockResolvedValueOnce(answer([card(3)], { conversationId: 42, followUp: true }));
    await chat.send("less sad");
    expect(ask.mock.calls[1][0]).toBe("less sad");
    expect(ask.mock.calls[1][1]).toBe(42);
    expect(chat.turns).toHaveLength(4);
  });

  it("shows an error on the turn and stays usable", async () => {
    const chat = new Chat();
    ask.mockRejectedValueOnce(new Error("the library has no indexed items yet"));
    await chat.send("anything");
    const turn = chat.turns[1] as AssistantTurn;
    expect(turn.error).toBe("the library has no indexed items yet");
    expect(turn.pending).toBe(false);
    expect(chat.busy).toBe(false);
    ask.mockResolvedValueOnce(answer([card(1)]));
    await chat.send("again");
    expect(chat.turns).toHaveLength(4);
  });

  it("ignores empty requests and stops only while answering", async () => {
    const chat = new Chat();
    await chat.send("   ");
    expect(ask).not.toHaveBeenCalled();
    await chat.stop();
    expect(api.stopAnswer).not.toHaveBeenCalled();

    let release!: () => void;
    ask.mockImplementation(
      () => new Promise((resolve) => (release = () => resolve(answer([card(1)])))),
    );
    const pending = chat.send("a film");
    expect(chat.busy).toBe(true);
    await chat.stop();
    expect(api.stopAnswer).toHaveBeenCalledTimes(1);
    release();
    await pending;
  });

  it("records feedback with the request it answered", async () => {
    const chat = new Chat();
    ask.mockResolvedValueOnce(answer([card(5)]));
    await chat.send("rainy day books");
    const turn = chat.turns[1] as AssistantTurn;
    await chat.feedback(turn, turn.cards[0], "dislike");
    expect(api.feedback).toHaveBeenCalledWith(5, "dislike", "rainy day books");
    expect(turn.verdicts[5]).toBe("dislike");
  });

  it("reopens a stored conversation to continue it", async () => {
    vi.mocked(api.conversation).mockResolvedValueOnce([
      { role: "user", text: "jazz for dinner", cards: [] },
      { role: "assistant", text: "", cards: [card(9, { why: "" })] },
    ]);
    const chat = new Chat();
    await chat.open(3);
    expect(chat.conversationId).toBe(3);
    expect((chat.turns[1] as AssistantTurn).request).toBe("jazz for dinner");
    ask.mockResolvedValueOnce(answer([card(1)], { conversationId: 3 }));
    await chat.send("shorter");
    expect(ask.mock.calls[0][1]).toBe(3);
  });
});
