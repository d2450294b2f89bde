// The chat: turns, the conversation they belong to, and the answer being
// made. Picks arrive first (fast path) and the model's reasons replace
// the rule-based ones as they stream; Esc stops the model, not the picks.
import { api, errorText, type Answer, type AnswerEvent, type Card, type Verdict } from "./api";

export type UserTurn = { role: "user"; text: string };
export type AssistantTurn = {
  role: "assistant";
  /** The request this answers (feedback is tied to it). */
  request: string;
  cards: Card[];
  understood: string[];
  notices: string[];
  /** The model's reply so far, while it explains. */
  thinking: string;
  /** Waiting for picks. */
  pending: boolean;
  /** Picks shown; the model is still explaining. */
  explaining: boolean;
  error: string | null;
  /** Feedback given per item id. */
  verdicts: Record<number, Verdict>;
};
export type Turn = UserTurn | AssistantTurn;

export class Chat {
  turns: Turn[] = $state([]);
  conversationId: number | null = $state(null);
  busy = $state(false);

  /** Sends a request; follow-ups go to the same conversation. */
  async send(text: string): Promise<void> {
    const request = text.trim();
    if (!request || this.busy) return;
    this.busy = true;
    this.turns.push({ role: "user", text: request });
    this.turns.push({
      role: "assistant",
      request,
      cards: [],
      understood: [],
      notices: [],
      thinking: "",
      pending: true,
      explaining: false,
      error: null,
      verdicts: {},
    });
    // The proxied turn, so updates reach the view.
    const turn = this.turns[this.turns.length - 1] as AssistantTurn;
    try {
      const answer: Answer = await api.ask(request, this.conversationId, (e) =>
        applyEvent(turn, e),
      );
      turn.cards = mergeReasons(turn.cards, answer.cards);
      turn.understood = answer.understood;
      turn.notices = answer.notices;
      if (answer.conversationId != null) this.conversationId = answer.conversationId;
    } catch (e) {
      turn.error = errorText(e);
    } finally {
      turn.pending = false;
      turn.explaining = false;
      turn.thinking = "";
      this.busy = false;
    }
  }

  /** Stops the model's explanation; the picks stay. */
  async stop(): Promise<void> {
    if (this.busy) await api.stopAnswer();
  }

  async feedback(turn: AssistantTurn, card: Card, verdict: Verdict): Promise<void> {
    await api.feedback(card.id, verdict, turn.request);
    turn.verdicts[card.id] = verdict;
  }

  /** Opens a stored conversation to continue it. */
  async open(id: number): Promise<void> {
    const messages = await api.conversation(id);
    const turns: Turn[] = [];
    let request = "";
    for (const m of messages) {
      if (m.role === "user") {
        request = m.text;
        turns.push({ role: "user", text: m.text });
      } else {
        turns.push({
          role: "assistant",
          request,
          cards: m.cards,
          understood: [],
          notices: [],
          thinking: "",
          pending: false,
          explaining: false,
          error: null,
          verdicts: {},
        });
      }
    }
    this.turns = turns;
    this.conversationId = id;
  }

  reset(): void {
    this.turns = [];
    this.conversationId = null;
  }
}

export function applyEvent(turn: AssistantTurn, e: AnswerEvent): void {
  switch (e.type) {
    case "understood":
      turn.understood = e.phrases;
      break;
    case "picks":
      turn.cards = e.cards;
      turn.pending = false;
      turn.explaining = true;
      break;
    case "piece":
      turn.thinking = (turn.thinking + e.text).slice(-400);
      break;
    case "why": {
      const card = turn.cards.find((c) => c.id === e.id);
      if (card) card.why = e.why;
      break;
    }
    case "notice":
      if (!turn.notices.includes(e.message)) turn.notices.push(e.message);
      break;
  }
}

/** The final cards, keeping a streamed reason the final list lacks. */
function mergeReasons(shown: Card[], final: Card[]): Card[] {
  return final.map((c) => {
    const s = shown.find((x) => x.id === c.id);
    return s && !c.why ? { ...c, why: s.why } : c;
  });
}
