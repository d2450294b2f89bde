// The window's only door to the host: thin wrappers over the generated
// bindings that turn `{status, error}` results into thrown `ApiError`s and
// hide channels behind callbacks. Components and stores import `api`, and
// unit tests mock this module.
import { Channel } from "@tauri-apps/api/core";
import {
  commands,
  events,
  type Answer,
  type AnswerEvent,
  type AppError,
  type AppSettings,
  type ChatMessage,
  type ConversationSummary,
  type ErrorCode,
  type FetchProgress,
  type FileError,
  type Folder,
  type HistoryImport,
  type LibraryStatus,
  type Models,
  type MoreReason,
  type People,
  type PlaylistFormat,
  type PlaylistShape,
  type PlaylistSource,
  type PlaylistView,
  type ScanStatus,
  type Suggestion,
  type TasteView,
  type Understood,
  type Verdict,
} from "./bindings";

export type {
  Answer,
  AnswerEvent,
  AppSettings,
  Card,
  ChatMessage,
  ConversationSummary,
  FetchProgress,
  FileError,
  Folder,
  HistoryImport,
  Kind,
  KindTasteView,
  LibraryStatus,
  ModelEntry,
  Models,
  MoreReason,
  People,
  PlaylistEntry,
  PlaylistFormat,
  PlaylistShape,
  PlaylistSource,
  PlaylistView,
  ScanStatus,
  Suggestion,
  TastePartView,
  TasteView,
  Understood,
  Verdict,
  WatchState,
} from "./bindings";

export class ApiError extends Error {
  code: ErrorCode;
  constructor(e: AppError) {
    super(e.message);
    this.code = e.code;
  }
}

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const r = await call;
  if (r.status === "ok") return r.data;
  // Tauri's own failures (a denied permission, a bad argument) are strings.
  const e = r.error as AppError | string;
  throw new ApiError(typeof e === "string" ? { code: "internal", message: e } : e);
}

type Unlisten = () => void;

export const api = {
  status: (): Promise<LibraryStatus> => unwrap(commands.libraryStatus()),
  pickFolder: (): Promise<string | null> => unwrap(commands.pickFolder()),
  addFolder: (path: string): Promise<Folder> => unwrap(commands.addFolder(path)),
  removeFolder: (path: string): Promise<number> => unwrap(commands.removeFolder(path)),
  scanNow: (): Promise<null> => unwrap(commands.scanNow()),
  itemDetails: (id: number): Promise<Understood> => unwrap(commands.itemDetails(id)),
  explainMore: (request: string, id: number): Promise<MoreReason> =>
    unwrap(commands.explainMore(request, id)),
  cancelScan: (): Promise<boolean> => unwrap(commands.cancelScan()),
  fileErrors: (limit: number): Promise<FileError[]> => unwrap(commands.fileErrors(limit)),
  ask(
    text: string,
    conversationId: number | null,
    onEvent: (e: AnswerEvent) => void,
  ): Promise<Answer> {
    const channel = new Channel<AnswerEvent>();
    channel.onmessage = onEvent;
    return unwrap(commands.ask(text, conversationId, channel));
  },
  stopAnswer: (): Promise<boolean> => unwrap(commands.stopAnswer()),
  feedback: (itemId: number, verdict: Verdict, request: string | null): Promise<null> =>
    unwrap(commands.feedback(itemId, verdict, request)),
  conversations: (): Promise<ConversationSummary[]> => unwrap(commands.conversations()),
  conversation: (id: number): Promise<ChatMessage[]> => unwrap(commands.conversation(id)),
  openItem: (id: number): Promise<null> => unwrap(commands.openItem(id)),
  revealItem: (id: number): Promise<null> => unwrap(commands.revealItem(id)),
  suggestions: (): Promise<Suggestion[]> => unwrap(commands.suggestions()),
  models: (): Promise<Models> => unwrap(commands.models()),
  fetchModels(profile: string, onEvent: (e: FetchProgress) => void): Promise<null> {
    const channel = new Channel<FetchProgress>();
    channel.onmessage = onEvent;
    return unwrap(commands.fetchModels(profile, channel));
  },
  cancelFetch: (): Promise<boolean> => unwrap(commands.cancelFetch()),
  chooseReasoningModel: (): Promise<string | null> => unwrap(commands.chooseReasoningModel()),
  setReasoningEndpoint: (
    url: string,
    model: string | null,
    apiKey: string | null,
    plainHttp: boolean,
  ): Promise<null> => unwrap(commands.setReasoningEndpoint(url, model, apiKey, plainHttp)),
  getSettings: (): Promise<AppSettings> => unwrap(commands.getSettings()),
  setSettings: (s: AppSettings): Promise<null> => unwrap(commands.setSettings(s)),
  pauseWatching: (paused: boolean): Promise<null> => unwrap(commands.pauseWatching(paused)),
  makePlaylist: (source: PlaylistSource, shape: PlaylistShape): Promise<PlaylistView> =>
    unwrap(commands.makePlaylist(source, shape)),
  savePlaylist: (ids: number[], title: string, format: PlaylistFormat): Promise<string | null> =>
    unwrap(commands.savePlaylist(ids, title, format)),
  playPlaylist: (ids: number[]): Promise<string> => unwrap(commands.playPlaylist(ids)),
  people: (): Promise<People> => unwrap(commands.people()),
  addPerson: (name: string): Promise<People> => unwrap(commands.addPerson(name)),
  usePerson: (name: string): Promise<People> => unwrap(commands.usePerson(name)),
  taste: (): Promise<TasteView> => unwrap(commands.taste()),
  forgetTaste: (facet: string, value: string, forget: boolean): Promise<TasteView> =>
    unwrap(commands.forgetTaste(facet, value, forget)),
  importHistory: (): Promise<HistoryImport | null> => unwrap(commands.importHistory()),

  onScan: (cb: (s: ScanStatus) => void): Promise<Unlisten> =>
    events.scanStatus.listen((e) => cb(e.payload)),
  onLibraryChanged: (cb: () => void): Promise<Unlisten> =>
    events.libraryChanged.listen(() => cb()),
  onNote: (cb: (message: string) => void): Promise<Unlisten> =>
    events.libraryNote.listen((e) => cb(e.payload.message)),
};

export type Api = typeof api;

/** The URL of an item's cover on the host's `cover:` scheme. */
export function coverUrl(id: number): string {
  const windows = typeof navigator !== "undefined" && /Windows/i.test(navigator.userAgent);
  return windows ? `http://cover.localhost/${id}` : `cover://localhost/${id}`;
}

/** A message a person can read, whatever was thrown. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
