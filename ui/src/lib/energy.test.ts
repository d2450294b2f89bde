import { describe, expect, it } from "vitest";
import { energyCurve, energyWords } from "./energy";

describe("energyCurve", () => {
  it("places tracks left to right and energy bottom to top", () => {
    const c = energyCurve([0, 0.5, 1], 108, 58, 4);
    expect(c.points).toEqual([
      { x: 4, y: 54, index: 0 },
      { x: 54, y: 29, index: 1 },
      { x: 104, y: 4, index: 2 },
    ]);
    expect(c.path).toBe("M4 54 L54 29 L104 4");
  });

  it("breaks the line where a track is not analysed", () => {
    const c = energyCurve([0.2, null, 0.4, 0.6], 100, 50, 0);
    expect(c.points.map((p) => p.index)).toEqual([0, 2, 3]);
    expect(c.path.match(/M/g)?.length).toBe(2);
  });

  it("centres a single track and clamps energy outside 0..1", () => {
    const c = energyCurve([1.7], 100, 50, 5);
    expect(c.points).toEqual([{ x: 50, y: 5, index: 0 }]);
  });
});

describe("energyWords", () => {
  it("says where the energy goes", () => {
    expect(energyWords([0.1, 0.3, 0.8])).toBe("Energy rises from calm to energetic.");
    expect(energyWords([0.9, 0.5, 0.2, null])).toBe(
      "Energy winds down from energetic to calm (1 without a sound analysis).",
    );
    expect(energyWords([0.5, 0.55])).toBe("Energy stays moderate.");
    // A rise within one word is not "from calm to calm".
    expect(energyWords([0.02, 0.05, 0.2])).toBe("Energy stays calm.");
    expect(energyWords([0.2, 0.9, 0.25])).toBe("Energy moves between calm and energetic.");
    expect(energyWords([null, null])).toMatch(/No track is analysed/);
  });
});
