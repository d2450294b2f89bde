// The playlist being made: from a request or a journey between two of its
// tracks, then edited (remove, move), played or saved. The host chooses
// the tracks; this keeps the order the person sees, and Play and Save use
// exactly that order.
import {
  api,
  errorText,
  type PlaylistEntry,
  type PlaylistFormat,
  type PlaylistShape,
  type PlaylistView,
} from "./api";

export class Playlist {
  text = $state("");
  /** Minutes to fill; null for the usual number of tracks. */
  minutes: number | null = $state(null);
  shape: PlaylistShape = $state("steady");
  steps = $state(6);

  title = $state("");
  tracks: PlaylistEntry[] = $state([]);
  notes: string[] = $state([]);
  /** Journey ends, by item id. */
  fromId: number | null = $state(null);
  toId: number | null = $state(null);

  busy = $state(false);
  error: string | null = $state(null);
  /** What the last Play or Save did. */
  message: string | null = $state(null);

  get totalSecs(): number {
    return this.tracks.reduce((s, t) => s + (t.card.durationSecs ?? 0), 0);
  }

  get energies(): (number | null)[] {
    return this.tracks.map((t) => t.energy);
  }

  /** The tracks a request asks for, filled to `minutes` when set. */
  async make(): Promise<void> {
    const text = this.text.trim();
    if (!text) return;
    const minutes = this.minutes != null && this.minutes > 0 ? this.minutes : null;
    await this.load(
      () => api.makePlaylist({ type: "request", text, minutes }, this.shape),
      text,
    );
  }

  /** From the track marked "from" to the one marked "to". */
  async journey(): Promise<void> {
    if (this.fromId == null || this.toId == null) return;
    const from = this.find(this.fromId);
    const to = this.find(this.toId);
    const title = `From ${from?.card.title ?? "a track"} to ${to?.card.title ?? "a track"}`;
    await this.load(
      () =>
        api.makePlaylist(
          { type: "journey", fromId: this.fromId!, toId: this.toId!, steps: this.steps },
          "steady",
        ),
      title,
    );
  }

  private async load(call: () => Promise<PlaylistView>, title: string): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    this.message = null;
    try {
      const view = await call();
      this.tracks = view.tracks;
      this.notes = view.notes;
      this.title = title;
      // Journey ends stay marked only while their tracks are shown.
      if (this.fromId != null && !this.find(this.fromId)) this.fromId = null;
      if (this.toId != null && !this.find(this.toId)) this.toId = null;
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.busy = false;
    }
  }

  private find(id: number): PlaylistEntry | undefined {
    return this.tracks.find((t) => t.card.id === id);
  }

  markFrom(id: number): void {
    this.fromId = this.fromId === id ? null : id;
    if (this.toId === this.fromId) this.toId = null;
  }

  markTo(id: number): void {
    this.toId = this.toId === id ? null : id;
    if (this.fromId === this.toId) this.fromId = null;
  }

  remove(index: number): void {
    const [gone] = this.tracks.splice(index, 1);
    if (gone?.card.id === this.fromId) this.fromId = null;
    if (gone?.card.id === this.toId) this.toId = null;
  }

  /** Moves a track one place up (-1) or down (+1). */
  move(index: number, by: -1 | 1): void {
    const to = index + by;
    if (to < 0 || to >= this.tracks.length) return;
    const [t] = this.tracks.splice(index, 1);
    this.tracks.splice(to, 0, t);
  }

  private ids(): number[] {
    return this.tracks.map((t) => t.card.id);
  }

  async play(): Promise<void> {
    await this.act(async () => {
      await api.playPlaylist(this.ids());
      return `Sent ${this.tracks.length} tracks to your player.`;
    });
  }

  async save(format: PlaylistFormat): Promise<void> {
    await this.act(async () => {
      const file = await api.savePlaylist(this.ids(), this.title, format);
      return file ? `Saved to ${file}` : null;
    });
  }

  private async act(f: () => Promise<string | null>): Promise<void> {
    if (this.tracks.length === 0) return;
    this.error = null;
    this.message = null;
    try {
      this.message = await f();
    } catch (e) {
      this.error = errorText(e);
    }
  }
}
