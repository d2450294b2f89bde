import { describe, expect, it } from "vitest";
import { bytes, duration, isPlainRemote, kindLabel, openLabel, percent, timeLeft } from "./format";

describe("format", () => {
  it("shows track and film lengths the way people read them", () => {
    expect(duration(225)).toBe("3:45");
    expect(duration(6720)).toBe("1 h 52 min");
    expect(duration(45 * 60)).toBe("45 min");
    expect(duration(null)).toBe("");
    expect(duration(0)).toBe("");
  });

  it("shows sizes, progress and time left", () => {
    expect(bytes(0)).toBe("0 B");
    expect(bytes(1536)).toBe("1.5 KB");
    expect(bytes(986_000_000)).toBe("940 MB");
    expect(percent(5, 20)).toBe(25);
    expect(percent(5, null)).toBeNull();
    expect(percent(30, 20)).toBe(100);
    expect(timeLeft(75)).toBe("1 min 15 s left");
    expect(timeLeft(null)).toBe("");
  });

  it("labels kinds and their open action", () => {
    expect(kindLabel("book")).toBe("Book");
    expect(openLabel("book")).toBe("Open");
    expect(openLabel("music")).toBe("Play");
    expect(openLabel("video")).toBe("Play");
  });

  it("tells plain http to another machine apart", () => {
    expect(isPlainRemote("http://192.168.1.20:8080")).toBe(true);
    expect(isPlainRemote("HTTP://user:pw@box.lan/v1")).toBe(true);
    expect(isPlainRemote("http://127.0.0.1:8080")).toBe(false);
    expect(isPlainRemote("http://localhost:11434")).toBe(false);
    expect(isPlainRemote("http://[::1]:8080")).toBe(false);
    expect(isPlainRemote("https://gpu.example")).toBe(false);
  });
});
