// Test data shaped like the host's (generated) types.
import type { Answer, Card } from "./api";

export function card(id: number, over: Partial<Card> = {}): Card {
  return {
    id,
    kind: "music",
    title: `Title ${id}`,
    creator: `Artist ${id}`,
    album: null,
    year: 1999,
    durationSecs: 200,
    path: `/media/${id}.mp3`,
    hasCover: false,
    why: `rule reason ${id}`,
    ...over,
  };
}

export function answer(cards: Card[], over: Partial<Answer> = {}): Answer {
  return {
    conversationId: 7,
    cards,
    understood: ["calm"],
    followUp: false,
    explainedBy: "rules",
    notices: [],
    firstPicksMs: 50,
    totalMs: 60,
    ...over,
  };
}
